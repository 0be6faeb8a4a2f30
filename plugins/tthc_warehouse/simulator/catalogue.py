"""The procedure catalogue and each province's agencies (departments, districts, communes).

Procedure codes follow the national database format (``1.00xxxx``/``2.00xxxx``); a few are the
real codes (birth 1.001193, marriage 1.000894), the others are plausible, and fees are the common
published levels. Field codes are the simulator's own short forms.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Procedure:
    code: str
    name: str
    field_code: str
    level: str  # province | district | commune
    department: str  # province-level department key; "" for district/commune units
    days: int  # legal processing time in working days
    fee: int  # VND, 0 = free
    paper_result: bool
    weight: float  # relative volume


_P = Procedure
CATALOGUE: tuple[Procedure, ...] = (
    _P("1.001193", "Thủ tục đăng ký khai sinh", "TP-HT", "commune", "", 1, 0, True, 14),
    _P("1.000894", "Thủ tục đăng ký kết hôn", "TP-HT", "commune", "", 5, 0, True, 4),
    _P("1.000656", "Thủ tục đăng ký khai tử", "TP-HT", "commune", "", 1, 0, True, 3),
    _P("1.004873", "Thủ tục cấp Giấy xác nhận tình trạng hôn nhân", "TP-HT", "commune", "", 3, 0,
       True, 6),
    _P("2.000913", "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản", "TP-CT",
       "commune", "", 2, 50_000, False, 3),
    _P("1.000689", "Thủ tục đăng ký giám hộ", "TP-HT", "commune", "", 3, 0, True, 0.5),
    _P("1.003005", "Đăng ký nuôi con nuôi trong nước", "TP-CN", "commune", "", 30, 400_000,
       True, 0.3),
    _P("2.000986", "Thủ tục cấp bản sao trích lục hộ tịch", "TP-HT", "commune", "", 1, 0, False, 4),
    _P("2.000720", "Đăng ký thành lập hộ kinh doanh", "KHDT-HKD", "district", "", 3, 100_000,
       True, 5),
    _P("2.000575", "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh", "KHDT-HKD", "district", "",
       3, 50_000, True, 2),
    _P("1.009994", "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ", "XD-CPXD", "district", "",
       15, 75_000, True, 3),
    _P("1.004227", "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất",
       "TNMT-DD", "district", "", 10, 50_000, True, 8),
    _P("1.004221", "Cấp Giấy chứng nhận quyền sử dụng đất lần đầu", "TNMT-DD", "district", "", 30,
       100_000, True, 3),
    _P("1.003554", "Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm", "YT-ATTP",
       "district", "", 20, 500_000, True, 1),
    _P("1.001279", "Cấp Giấy phép bán lẻ sản phẩm rượu", "CT-LTHH", "district", "", 10,
       1_000_000, True, 0.8),
    _P("1.000080", "Đăng ký kết hôn có yếu tố nước ngoài", "TP-HT", "district", "", 10, 1_000_000,
       True, 0.3),
    _P("2.000794", "Xác nhận đăng ký kế hoạch bảo vệ môi trường", "TNMT-MT", "district", "", 10, 0,
       False, 0.5),
    _P("1.001653", "Thực hiện, điều chỉnh, thôi hưởng trợ cấp xã hội hàng tháng", "LDTBXH-BTXH",
       "district", "", 20, 0, False, 2),
    _P("2.001610", "Đăng ký thành lập công ty TNHH một thành viên", "KHDT-DN", "province",
       "SO-KHDT", 3, 50_000, True, 2),
    _P("2.002042", "Đăng ký thay đổi nội dung đăng ký doanh nghiệp", "KHDT-DN", "province",
       "SO-KHDT", 3, 50_000, True, 2),
    _P("2.000488", "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam", "TP-LLTP", "province",
       "SO-TP", 10, 200_000, True, 3),
    _P("1.002804", "Đổi giấy phép lái xe do ngành Giao thông vận tải cấp", "GTVT-SH", "province",
       "SO-GTVT", 5, 135_000, True, 3),
    _P("1.009974", "Cấp giấy phép xây dựng công trình", "XD-CPXD", "province", "SO-XD", 20,
       150_000, True, 0.5),
    _P("1.002339", "Cấp chứng chỉ hành nghề dược", "YT-D", "province", "SO-YT", 20, 500_000, True,
       0.5),
    _P("1.000105", "Cấp giấy phép lao động cho người lao động nước ngoài", "LDTBXH-VL",
       "province", "SO-LDTBXH", 5, 600_000, True, 0.4),
    _P("1.000037", "Thẩm định báo cáo đánh giá tác động môi trường", "TNMT-MT", "province",
       "SO-TNMT", 30, 1_000_000, False, 0.2),
    _P("1.005411", "Cấp bản sao văn bằng, chứng chỉ từ sổ gốc", "GDDT-VB", "province", "SO-GDDT",
       3, 0, True, 1),
    _P("1.004964", "Cấp giấy chứng nhận đủ điều kiện kinh doanh dịch vụ lữ hành nội địa",
       "VHTTDL-DL", "province", "SO-VHTTDL", 10, 800_000, True, 0.1),
    _P("1.003397", "Cấp giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm nông lâm thủy sản",
       "NN-QLCL", "province", "SO-NNPTNT", 15, 700_000, True, 0.3),
    _P("1.000932", "Giải quyết hưởng trợ cấp thất nghiệp", "LDTBXH-VL", "province", "SO-LDTBXH",
       20, 0, False, 1.5),
)

DEPARTMENTS: dict[str, str] = {
    "TTPVHCC": "Trung tâm Phục vụ hành chính công",
    "SO-TP": "Sở Tư pháp",
    "SO-KHDT": "Sở Kế hoạch và Đầu tư",
    "SO-GTVT": "Sở Giao thông vận tải",
    "SO-TNMT": "Sở Tài nguyên và Môi trường",
    "SO-LDTBXH": "Sở Lao động - Thương binh và Xã hội",
    "SO-XD": "Sở Xây dựng",
    "SO-YT": "Sở Y tế",
    "SO-GDDT": "Sở Giáo dục và Đào tạo",
    "SO-VHTTDL": "Sở Văn hóa, Thể thao và Du lịch",
    "SO-NNPTNT": "Sở Nông nghiệp và Phát triển nông thôn",
}
CORE_DEPARTMENTS = ("TTPVHCC", "SO-TP", "SO-KHDT", "SO-GTVT", "SO-TNMT", "SO-LDTBXH")

# (province code) -> (province name, district-level units in 2024)
DISTRICTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "52": ("Bình Định", ("thành phố Quy Nhơn", "thị xã An Nhơn", "thị xã Hoài Nhơn",
                         "huyện Tuy Phước", "huyện Phù Cát", "huyện Tây Sơn")),
    "30": ("Hải Dương", ("thành phố Hải Dương", "thành phố Chí Linh", "thị xã Kinh Môn",
                         "huyện Cẩm Giàng", "huyện Gia Lộc", "huyện Thanh Miện")),
    "02": ("Hà Giang", ("thành phố Hà Giang", "huyện Đồng Văn", "huyện Mèo Vạc",
                        "huyện Vị Xuyên", "huyện Bắc Quang", "huyện Hoàng Su Phì")),
    "96": ("Cà Mau", ("thành phố Cà Mau", "huyện U Minh", "huyện Thới Bình",
                      "huyện Trần Văn Thời", "huyện Cái Nước", "huyện Năm Căn")),
    "11": ("Điện Biên", ("thành phố Điện Biên Phủ", "thị xã Mường Lay", "huyện Điện Biên",
                         "huyện Tuần Giáo", "huyện Mường Chà", "huyện Nậm Pồ")),
    "44": ("Quảng Bình", ("thành phố Đồng Hới", "thị xã Ba Đồn", "huyện Bố Trạch",
                          "huyện Quảng Trạch", "huyện Lệ Thủy", "huyện Minh Hóa")),
    "49": ("Quảng Nam", ("thành phố Tam Kỳ", "thành phố Hội An", "thị xã Điện Bàn",
                         "huyện Duy Xuyên", "huyện Thăng Bình", "huyện Núi Thành")),
    "40": ("Nghệ An", ("thành phố Vinh", "thị xã Cửa Lò", "thị xã Thái Hòa", "huyện Diễn Châu",
                       "huyện Quỳnh Lưu", "huyện Đô Lương")),
    "27": ("Bắc Ninh", ("thành phố Bắc Ninh", "thành phố Từ Sơn", "thị xã Quế Võ",
                        "huyện Yên Phong", "huyện Tiên Du", "huyện Gia Bình")),
    "46": ("Thừa Thiên Huế", ("thành phố Huế", "thị xã Hương Thủy", "thị xã Hương Trà",
                              "huyện Phong Điền", "huyện Phú Vang", "huyện Phú Lộc")),
}
COMMUNE_NAMES = ("Quang Trung", "Trần Phú", "Lê Lợi", "Nguyễn Trãi", "Hòa Bình", "Tân An",
                 "Phú Hòa", "An Bình", "Thanh Xuân", "Đông Hòa", "Tân Tiến", "Hưng Thịnh")


@dataclass(frozen=True)
class Agency:
    code: str  # the province's own unit code, e.g. 30.SO-TP, 30.H01, 30.H01.X02
    portal_code: str  # the portal's H-code, e.g. H26.03
    name: str
    level: str  # province | district | commune


def build_agencies(code: str, portal: str, rng: random.Random) -> list[Agency]:
    """About 12-19 units: core and a few other departments, 3-4 districts, 1-2 communes each."""
    others = sorted(set(DEPARTMENTS) - set(CORE_DEPARTMENTS))
    keys = [*CORE_DEPARTMENTS, *sorted(rng.sample(others, rng.randint(2, 3)))]
    province = DISTRICTS[code][0]
    agencies = [Agency(f"{code}.{k}", f"{portal}.{i:02d}", f"{DEPARTMENTS[k]} - Tỉnh {province}",
                       "province") for i, k in enumerate(keys, 1)]
    districts = DISTRICTS[code][1][: rng.randint(3, 4)]
    for d, district in enumerate(districts, 1):
        agencies.append(Agency(f"{code}.H{d:02d}", f"{portal}.{50 + d}", f"UBND {district}",
                               "district"))
        urban = district.startswith(("thành phố", "thị xã"))
        for c, name in enumerate(rng.sample(COMMUNE_NAMES, rng.randint(1, 2)), 1):
            kind = "phường" if urban else "xã"
            agencies.append(Agency(f"{code}.H{d:02d}.X{c:02d}", f"{portal}.{100 + 10 * d + c}",
                                   f"UBND {kind} {name} - {district}", "commune"))
    return agencies


def offered(agencies: list[Agency]) -> list[Procedure]:
    """Procedures the province's units can handle (province-level ones need their department)."""
    keys = {a.code.split(".", 1)[1] for a in agencies if a.level == "province"}
    return [p for p in CATALOGUE if p.level != "province" or p.department in keys]

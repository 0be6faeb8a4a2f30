"""Warehouse pipeline for Vietnam's administrative-procedure (TTHC) reform reporting."""

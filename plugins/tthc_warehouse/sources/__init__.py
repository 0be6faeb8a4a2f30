"""Extract: province feeds, the payment platform and the national 766 API, as raw chunks."""

"""Township summaries (活动总结) and the county's compiled workbook."""

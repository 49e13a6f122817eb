"""The report views, one module per report: grouped rows from the daily facts (`daily_facts`) in, a typed `ReportTable` out.

Working days, percentiles and the Code's timescales are worked out here on the grouped rows, with
the landlord's own `WorkingCalendar`. The table of views and `build_report` are intake/reports/service.py.
"""

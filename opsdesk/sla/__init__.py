"""SLA: business calendars (working hours, Chinese statutory holidays and 调休, overrides)."""

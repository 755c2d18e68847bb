"""English as the UN desks write it: day before month, 24-hour clock, ISO where a machine
might read it (Django's own "en" formats are American). Only what differs is set here;
everything else comes from Django's "en" module (FORMAT_MODULE_PATH in settings)."""

DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
FIRST_DAY_OF_WEEK = 1

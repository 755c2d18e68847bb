"""Arabic: Django's "ar" module has no date-and-time format (it falls back to the American
one); the desks use day/month/year and a 24-hour clock. The rest comes from Django's module."""

SHORT_DATETIME_FORMAT = "d\u200f/m\u200f/Y H:i"
DATETIME_FORMAT = "j F، Y H:i"
TIME_FORMAT = "H:i"

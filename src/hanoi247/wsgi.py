import gc
import os
import sys

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hanoi247.settings")
application = get_wsgi_application()

# The delivery "kick" runs in a thread beside the request that queued the message; with the
# default 5 ms GIL switch interval it waits for that request to finish rendering. 1 ms lets
# it start at once (measured by bench/delivery.py).
sys.setswitchinterval(0.001)
# Django's own objects live as long as the process: move them out of the collector's way,
# so that a full collection does not pause a delivery for tens of milliseconds.
gc.collect()
gc.freeze()

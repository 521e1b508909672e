import os
import warnings

from celery import Celery
from celery.exceptions import SecurityWarning
from celery.signals import before_task_publish, task_postrun, task_prerun

from marquee.lib import logs
from marquee.lib.env import env_bool

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marquee.settings")

app = Celery("marquee")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

if env_bool("DEBUG", True):
    # The embedded default (`make run`) often runs as root in a container; the
    # worker accepts JSON only, so Celery's root warning says nothing useful
    # there.  Production (DEBUG=0) still shows it: run workers unprivileged.
    warnings.filterwarnings("ignore", message=".*superuser privileges", category=SecurityWarning)

# The web request's id travels with the tasks it sends (JSON logs in the worker).
before_task_publish.connect(logs.on_before_task_publish, weak=False)
task_prerun.connect(logs.on_task_prerun, weak=False)
task_postrun.connect(logs.on_task_postrun, weak=False)

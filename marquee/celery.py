import os

from celery import Celery
from celery.signals import before_task_publish, task_postrun, task_prerun

from marquee.lib import logs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marquee.settings")

app = Celery("marquee")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The web request's id travels with the tasks it sends (JSON logs in the worker).
before_task_publish.connect(logs.on_before_task_publish, weak=False)
task_prerun.connect(logs.on_task_prerun, weak=False)
task_postrun.connect(logs.on_task_postrun, weak=False)

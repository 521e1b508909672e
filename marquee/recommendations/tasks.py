from __future__ import annotations

from celery import shared_task

from marquee.recommendations import services, tracking, training


@shared_task(ignore_result=True)
def flush_interactions() -> int:
    return tracking.flush()


@shared_task(ignore_result=True)
def store_interactions(events: list) -> int:
    return services.store_interactions(events=[tuple(event) for event in events])


@shared_task(ignore_result=True)
def train_recommender() -> str:
    tracking.flush()
    return training.train().version

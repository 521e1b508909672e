"""Recordings of private and exclusive shows for their payer (issue 16 item 5).

Started when a session starts in a room that allows recordings (the
performer's setting at that moment), stopped when it ends; nginx writes the
performer's stream to an FLV, which ``process`` remuxes (stream copy, no
re-encode) into an MP4 in the content storage.  Each recording is deleted
``PRIVATE_RECORDING_RETENTION_DAYS`` after its session ended (or, if it never
heard the end, after it started): ``delete_expired``.  Who may fetch one is
``access.watch_recording``'s answer."""

from __future__ import annotations

import datetime
import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from marquee.audit.services import record_audit
from marquee.privates.models import PrivateRecording, PrivateShow, RoomPrivateSettings
from marquee.shows import recorder

logger = logging.getLogger(__name__)
Status = PrivateRecording.Status
RECORDED_KINDS = (PrivateShow.Kind.PRIVATE, PrivateShow.Kind.EXCLUSIVE)
REMUX_TIMEOUT_SECONDS = 600


def _retention() -> datetime.timedelta:
    return datetime.timedelta(days=settings.PRIVATE_RECORDING_RETENTION_DAYS)


def start(session_id: int, *, now=None) -> PrivateRecording | None:
    """The session started: record it if the room allows it.  Idempotent (one
    recording per session); None when not recorded."""
    now = now or timezone.now()
    session = PrivateShow.objects.select_related("performer__user").filter(pk=session_id).first()
    if session is None or session.kind not in RECORDED_KINDS or session.status != PrivateShow.Status.ACTIVE:
        return None
    allowed = RoomPrivateSettings.objects.filter(performer_id=session.performer_id, recordings_enabled=True).exists()
    if not allowed:
        return None
    recording, created = PrivateRecording.objects.get_or_create(
        session=session, defaults={"started_at": now, "expires_at": now + _retention()}
    )
    if not created:
        return recording
    path = recorder.start(session.performer.username)
    if path is None:
        recording.status = Status.FAILED
        recording.save(update_fields=["status"])
        return recording
    recording.raw_path = path
    recording.save(update_fields=["raw_path"])
    return recording


def stop(session_id: int, *, now=None) -> PrivateRecording | None:
    """The session ended: stop recording; the recording is then ``process``ed
    and kept for the retention from now.  Returns it if there is one to process."""
    now = now or timezone.now()
    with transaction.atomic():
        recording = (
            PrivateRecording.objects.select_for_update()
            .select_related("session__performer__user")
            .filter(session_id=session_id, status=Status.RECORDING)
            .first()
        )
        if recording is None:
            return None
        recording.status = Status.PROCESSING
        recording.ended_at = now
        recording.expires_at = now + _retention()
        recording.save(update_fields=["status", "ended_at", "expires_at"])
    # Empty when nginx already closed the file (the publish ended first).
    recorder.stop(recording.session.performer.username)
    return recording


def _remux(source: Path, target: Path) -> bool:
    command = [
        shutil.which(settings.FFMPEG_BINARY) or settings.FFMPEG_BINARY,
        *("-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", str(source)),
        *("-c", "copy", "-movflags", "+faststart", "-f", "mp4", str(target)),
    ]
    try:
        done = subprocess.run(command, capture_output=True, timeout=REMUX_TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired):
        logger.exception("remuxing %s failed", source)
        return False
    if done.returncode != 0 or not target.exists() or target.stat().st_size == 0:
        logger.warning("remuxing %s failed: %s", source, done.stderr[-500:])
        return False
    return True


def process(recording_id: int) -> PrivateRecording | None:
    """FLV → MP4 in the content storage; the FLV goes either way.  Retried
    calls do nothing (only a recording in ``processing`` is taken)."""
    recording = PrivateRecording.objects.filter(pk=recording_id, status=Status.PROCESSING).first()
    if recording is None:
        return None
    raw = Path(recording.raw_path) if recording.raw_path else None
    ok = False
    if raw is not None and raw.is_file():
        with tempfile.TemporaryDirectory() as scratch:
            target = Path(scratch) / f"private-{recording.session_id}.mp4"
            ok = _remux(raw, target)
            if ok:
                with target.open("rb") as handle:
                    recording.file.save(target.name, File(handle), save=False)
                recording.size_bytes = target.stat().st_size
    if ok:
        recording.status = Status.READY
        recording.duration_seconds = int((recording.ended_at - recording.started_at).total_seconds())
    else:
        recording.status = Status.FAILED
    recording.save(update_fields=["status", "file", "size_bytes", "duration_seconds"])
    if raw is not None:
        raw.unlink(missing_ok=True)
    return recording


def _delete_files(recording: PrivateRecording) -> None:
    if recording.file:
        recording.file.delete(save=False)
    if recording.raw_path:
        Path(recording.raw_path).unlink(missing_ok=True)


def delete_expired(*, now=None) -> int:
    """Delete every recording past its retention: file, raw file, row."""
    now = now or timezone.now()
    deleted = 0
    for pk in PrivateRecording.objects.filter(expires_at__lte=now).order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            recording = PrivateRecording.objects.select_for_update().filter(pk=pk, expires_at__lte=now).first()
            if recording is None:
                continue
            session_id = recording.session_id
            recording.delete()
            record_audit(
                action="privates.recording_deleted", actor=None, target=recording.session, details={"expired": True}
            )
            # Files last, on commit: a rolled-back delete keeps its file.
            transaction.on_commit(lambda r=recording: _delete_files(r))
            logger.info("deleted the recording of private session %s", session_id)
        deleted += 1
    return deleted

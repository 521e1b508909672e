"""The adaptive ladder from settings, and what the media server is told."""

from __future__ import annotations

import subprocess
import sys

import pytest

from marquee.shows.ladder import parse_ladder
from marquee.shows.media_server import MediaConfig, render_config


def test_default_ladder_is_source_480p_240p():
    assert [r.name for r in parse_ladder("source,480p,240p")] == ["source", "480p", "240p"]
    # Listed highest first whatever the order in the setting.
    assert [r.name for r in parse_ladder("360p,720p,480p")] == ["720p", "480p", "360p"]


@pytest.mark.parametrize("bad", ["", " , ", "source,999p", "480p,480p", "4k"])
def test_bad_ladders_are_refused(bad):
    with pytest.raises(ValueError):
        parse_ladder(bad)


def test_a_bad_ladder_stops_the_settings_loading():
    env = {"MEDIA_LADDER": "source,1440p", "PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "marquee.settings"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0 and "unknown rung(s) 1440p" in result.stderr


def test_config_has_the_transcoder_and_a_variant_per_rung(tmp_path):
    config = MediaConfig(var_dir=tmp_path, ladder=parse_ladder("720p,480p,360p"), ffmpeg="/usr/bin/ffmpeg")
    text = render_config(config)
    assert "hls_variant _720p BANDWIDTH=3440800,RESOLUTION=1280x720;" in text
    assert "hls_variant _480p BANDWIDTH=1315600,RESOLUTION=854x480;" in text
    assert "hls_variant _360p BANDWIDTH=908600,RESOLUTION=640x360;" in text
    assert "_src" not in text
    exec_line = next(line for line in text.splitlines() if line.strip().startswith("exec "))
    assert exec_line.count("-f flv") == 3
    assert f"rtmp://127.0.0.1:{config.rtmp_port}/hls/${{name}}_360p" in exec_line
    assert "scale=-2:720" in exec_line and "-b:v 3000k" in exec_line

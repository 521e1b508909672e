"""``recommender_eval`` on small messy CSVs; it must not touch the database
(no ``db`` fixture here: pytest-django fails any query)."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from marquee.recommendations import synthetic

LINE = re.compile(
    r"^(?P<model>\S+) precision@10=(?P<p>[0-9.]+) recall@10=(?P<r>[0-9.]+) ndcg@10=(?P<n>[0-9.]+) train_s=[0-9.]+$"
)


def run(path) -> tuple[list[dict], str]:
    out, err = StringIO(), StringIO()
    call_command("recommender_eval", "--interactions", str(path), stdout=out, stderr=err)
    lines = [LINE.match(line) for line in out.getvalue().splitlines()]
    assert all(lines), out.getvalue()
    return [m.groupdict() for m in lines], err.getvalue()


def test_messy_movielens_style_file(tmp_path):
    users, items, timestamps, weights = synthetic.planted_interactions(
        n_users=300, n_items=80, per_user=12, n_clusters=5, seed=5
    )
    rows = ["userId,movieId,rating,timestamp"]  # MovieLens header and column order
    rows += [f"user-{u},movie {i},{w / 2:.1f},{int(t)}" for u, i, t, w in zip(users, items, timestamps, weights)]
    rows += [
        "user-0,movie 1,4.0,100",  # duplicate pair
        "user-0,movie 1,4.0,100",
        "lonely,movie 3,5,42",  # a user with one interaction
        ",movie 3,5,42",  # no user
        "user-9,movie 2,,77",  # missing weight → 1
        "user-9,movie 2,abc,78",  # bad weight → skipped
        "user-9,movie 2,3,yesterday",  # bad timestamp → skipped
        "user-9,movie 4,3,2024-01-02T03:04:05Z",  # ISO timestamp
        "too,short",
        "",
    ]
    path = tmp_path / "ratings.csv"
    path.write_text("\n".join(rows) + "\n")
    results, err = run(path)
    assert [r["model"] for r in results] == ["als", "popularity"]
    for result in results:
        assert 0 <= float(result["p"]) <= 0.1 and 0 <= float(result["r"]) <= 1 and 0 <= float(result["n"]) <= 1
    assert "bad_timestamp=1" in err and "bad_weight=1" in err and "missing_id=1" in err and "short_row=1" in err
    assert "300 users evaluated" in err


def test_plain_header_without_weights(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("user,item,timestamp\n1,10,1\n1,11,2\n2,10,1\n2,12,3\n3,11,1\n3,10,2\n")
    results, _ = run(path)
    assert [r["model"] for r in results] == ["als", "popularity"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "empty"),
        ("a,b,c\n1,2,3\n", "header must name"),
        ("user,item,timestamp\n1,10,1\n2,10,2\n", "nothing to evaluate"),
    ],
)
def test_unusable_files_fail_with_a_message(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(CommandError, match=message):
        run(path)


def test_missing_file_fails_with_a_message(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run(tmp_path / "nope.csv")

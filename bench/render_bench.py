"""Render once, personalise cheaply: per-recipient cost of the two ways to build a digest.

For a full edition (8 top stories with 3 related items each, built from the bundled
sample feeds) in each language, prints medians of several runs:

- render: Jinja + premailer for the edition, done once per edition variant;
- per recipient, ours: the recipient's values (greeting, signed unsubscribe token) and
  `MessageSkeleton.build` (substitution, transfer encoding, headers) into MIME bytes,
  wall time and this process's CPU time (the machine may be shared);
- per recipient, naive: render + premailer + `email.message.EmailMessage` per recipient;
- the speed-up (naive / ours), in the same run;
- reader groups: rendering time for 1, 5, 10 and 20 (language, sections, zone) groups
  (one render each, never one per reader), and the per-recipient cost over
  `--group-readers` readers spread across 20 groups against the same readers all in one
  group (the variant look-up must not change it).

    python bench/render_bench.py [--recipients 2000] [--naive 12] [--runs 5]
                                 [--groups 1,5,10,20] [--group-readers 100000]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import tempfile
import time
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

from digest import pipeline, placeholders
from digest.config import Settings, load_settings
from digest.models import Article
from digest.render import render_edition
from digest.selection.plan import EditionPlan, RelatedItem, Story, Window
from digest.variants import Audience, AudienceKeys, VariantSkeleton, personal_stories
from subscribers.models import Subscriber

SAMPLES = Path(pipeline.__file__).parent / "data" / "sample"
DAY = date(2025, 6, 4)
NOW = datetime(2025, 6, 4, 4, 0, tzinfo=UTC)


def sample_articles(language: str) -> list[Article]:
    root = ET.parse(SAMPLES / f"arabpress-{language}.xml").getroot()
    articles = []
    for number, item in enumerate(root.iter("item")):
        link = item.findtext("link") or f"https://arabpress.example/{number}"
        articles.append(
            Article(
                id=number + 1, guid=link, url=link, title=item.findtext("title") or "",
                summary=f"<p>{item.findtext('description') or ''}</p>", body="",
                section=item.findtext("category") or "", author="", language=language,
                image_url=f"https://arabpress.example/images/{number}.jpg" if number < 8 else "",
                published_at=parsedate_to_datetime(item.findtext("pubDate")).astimezone(UTC),
                source="bench", priority=0, content_hash=hashlib.sha256(link.encode()).hexdigest(),
                ingested_at=NOW,
            )
        )  # fmt: skip
    return articles


def full_plan(language: str) -> EditionPlan:
    articles = sample_articles(language)
    tops, rest = articles[:8], articles[8:]
    plan = EditionPlan(DAY, language, Window(NOW - timedelta(hours=24), NOW))
    for index, top in enumerate(tops):
        related = [RelatedItem(rest[(index * 3 + k) % len(rest)], 0.5) for k in range(3)]
        plan.stories.append(Story(top, 1.0, related))
    return plan


def subscribers(count: int, language: str) -> list[Subscriber]:
    return [
        Subscriber(
            id=n + 1, email=f"reader{n}@example.com", name=f"Reader Number {n}",
            language=language, smtputf8=False, created_at=NOW, updated_at=NOW,
        )
        for n in range(count)
    ]  # fmt: skip


def median_seconds(runs: int, work, clock=time.perf_counter) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = clock()
        work()
        times.append(clock() - start)
    return statistics.median(times)


def naive_message(settings: Settings, plan: EditionPlan, reader: Subscriber, token: str) -> bytes:
    """What a straightforward implementation does for every recipient."""
    rendered = render_edition(plan, settings)
    greeting = f"Hello {reader.name},"
    unsubscribe = settings.mail.unsubscribe_url.replace("{token}", token)
    values = {
        placeholders.GREETING: greeting,
        placeholders.UNSUBSCRIBE_URL: unsubscribe,
        placeholders.EMAIL: reader.email,
    }
    html, text = rendered.html, rendered.text
    for token_name, value in values.items():
        html, text = html.replace(token_name, value), text.replace(token_name, value)
    message = EmailMessage()
    message["From"] = settings.mail.from_address
    message["To"] = f"{reader.name} <{reader.email}>"
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(NOW)
    message["Message-ID"] = f"<{reader.id}.bench@arabpress.example>"
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message.as_bytes(policy=SMTP)


def bench_language(settings: Settings, language: str, args: argparse.Namespace) -> None:
    plan = full_plan(language)
    render_edition(plan, settings)  # warm up imports and caches
    render_time = median_seconds(args.runs, lambda: render_edition(plan, settings))
    rendered = render_edition(plan, settings)
    skeleton = pipeline.skeleton_for(settings, rendered.subject, rendered.html, rendered.text)
    recipient_for = pipeline.recipient_factory(settings, language)
    readers = subscribers(args.recipients, language)
    sizes: list[int] = []

    def ours() -> None:
        sizes.clear()
        for reader in readers:
            message = skeleton.build(
                recipient_for(reader), message_id=skeleton.message_id(str(reader.id)), date=NOW
            )
            sizes.append(len(message))

    def naive() -> None:
        for reader in readers[: args.naive]:
            naive_message(settings, plan, reader, "bench-token")

    fast = median_seconds(args.runs, ours) / len(readers)
    # CPU time of this process: what a recipient costs when other work shares the machine.
    fast_cpu = median_seconds(args.runs, ours, time.process_time) / len(readers)
    slow = median_seconds(args.runs, naive) / args.naive
    print(
        f"[{language}] edition: {len(plan.stories)} stories, "
        f"{sum(len(s.related) for s in plan.stories)} related, HTML part {rendered.html_size:,} "
        f"bytes encoded, message {statistics.median(sizes):,.0f} bytes"
    )
    print(f"[{language}] render + inline once per edition:      {render_time * 1e3:8.1f} ms")
    print(f"[{language}] per recipient, skeleton (ours):         {fast * 1e6:8.1f} µs "
          f"(CPU {fast_cpu * 1e6:.1f} µs; target <= 40 µs with the signed token)")  # fmt: skip
    print(f"[{language}] per recipient, naive (render+EmailMessage): {slow * 1e3:8.1f} ms")
    print(f"[{language}] speed-up: {slow / fast:,.0f}x")


#: Zones and section choices the synthetic reader groups combine.
ZONES = ("UTC", "Europe/London", "America/New_York", "Asia/Dubai", "Africa/Cairo")
SECTION_CHOICES = ((), ("politics",), ("technology",), ("world", "business"))


def group_audiences(count: int) -> list[Audience]:
    combos = [Audience(sections, zone) for sections in SECTION_CHOICES for zone in ZONES]
    return combos[:count]


def render_groups(settings: Settings, plan: EditionPlan, pool: list[Story], count: int) -> dict:
    """Every group's variant rendered once: what freezing an edition costs."""
    skeletons = {}
    for audience in group_audiences(count):
        stories = personal_stories(
            plan.stories, pool, audience.sections, top_stories=8, min_stories=4
        )
        group = EditionPlan(plan.date, plan.language, plan.window, stories)
        rendered = render_edition(group, settings, timezone=audience.timezone)
        skeletons[audience.key] = pipeline.skeleton_for(
            settings, rendered.subject, rendered.html, rendered.text, language=plan.language
        )
    return skeletons


def bench_groups(settings: Settings, language: str, args: argparse.Namespace) -> None:
    plan = full_plan(language)
    pool = [Story(a, 1.0, []) for a in sample_articles(language)]
    counts = [int(n) for n in args.groups.split(",")]
    runs = max(1, min(args.runs, 3))
    print(f"[{language}] reader groups: rendering time (median of {runs} runs)")
    for count in counts:
        seconds = median_seconds(runs, lambda n=count: render_groups(settings, plan, pool, n))
        print(f"[{language}]   {count:3d} groups: {seconds:6.2f} s  "
              f"({seconds / count * 1e3:6.1f} ms per group)")  # fmt: skip
    skeletons = render_groups(settings, plan, pool, max(counts))
    general = next(iter(skeletons.values()))
    keys = AudienceKeys(settings.schedule.timezone, skeletons)
    audiences = group_audiences(max(counts))
    readers = subscribers(args.group_readers, language)
    for reader in readers:
        audience = audiences[reader.id % len(audiences)]
        reader.sections, reader.timezone = ",".join(audience.sections), audience.timezone

    def per_recipient(skeleton, recipient_for) -> None:  # type: ignore[no-untyped-def]
        for reader in readers:
            skeleton.build(recipient_for(reader), message_id="<b@x>", date=NOW)

    plain_factory = pipeline.recipient_factory(settings, language)
    group_factory = pipeline.recipient_factory(settings, language, variant_of=keys)
    dispatching = VariantSkeleton(general, skeletons)
    # One pass each over every reader (100,000 by default): long enough to be steady.
    one = median_seconds(1, lambda: per_recipient(general, plain_factory))
    many = median_seconds(1, lambda: per_recipient(dispatching, group_factory))
    print(f"[{language}] per recipient over {len(readers):,} readers: one group "
          f"{one / len(readers) * 1e6:.1f} µs, {len(skeletons)} groups "
          f"{many / len(readers) * 1e6:.1f} µs (ratio {many / one:.2f})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=2000, help="recipients for ours")
    parser.add_argument("--naive", type=int, default=12, help="recipients for the naive way")
    parser.add_argument("--runs", type=int, default=5, help="runs; medians are printed")
    parser.add_argument("--groups", default="1,5,10,20", help="reader group counts to render")
    parser.add_argument(
        "--group-readers", type=int, default=100_000, help="readers spread over the groups"
    )
    parser.add_argument("--only-groups", action="store_true", help="skip the per-edition part")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "digest.toml"
        config.write_text("", encoding="utf-8")
        settings = load_settings(config, env={"DIGEST_SECRET_KEY": "bench-secret-for-rendering"})
        print(f"medians of {args.runs} runs; {args.recipients} recipients (ours), "
              f"{args.naive} (naive)")  # fmt: skip
        for language in settings.site.languages:
            if not args.only_groups:
                bench_language(settings, language, args)
            bench_groups(settings, language, args)


if __name__ == "__main__":
    main()

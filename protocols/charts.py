"""Signups per day as a server-rendered SVG bar chart (no JavaScript)."""

from datetime import timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

WIDTH, HEIGHT = 720, 200
MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 36, 28, 12


def signups_per_day(protocol, *, days=30, today=None):
    """[(date, count)] for the last `days` days up to today (UTC), zeros included."""
    today = today or timezone.localdate()
    start = today - timedelta(days=days - 1)
    rows = (
        protocol.signups.filter(created_at__date__gte=start)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    counts = dict(rows)
    return [(start + timedelta(days=i), counts.get(start + timedelta(days=i), 0)) for i in range(days)]


def bar_chart(series):
    """Geometry for templates/admin/protocols/signup_chart.html: bars, axis ticks, total."""
    peak = max((n for _, n in series), default=0)
    scale_max = max(peak, 1)
    plot_w = WIDTH - MARGIN_LEFT - 8
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    slot = plot_w / max(len(series), 1)
    bars = []
    for i, (day, n) in enumerate(series):
        h = plot_h * n / scale_max
        bars.append(
            {
                "x": round(MARGIN_LEFT + i * slot + slot * 0.15, 1),
                "y": round(MARGIN_TOP + plot_h - h, 1),
                "width": round(slot * 0.7, 1),
                "height": round(h, 1),
                "day": day,
                "count": n,
                "label_x": round(MARGIN_LEFT + i * slot + slot / 2, 1),
                "show_label": i % 5 == 0 or i == len(series) - 1,
            }
        )
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "bars": bars,
        "peak": peak,
        "total": sum(n for _, n in series),
        "axis_x": MARGIN_LEFT,
        "axis_y": MARGIN_TOP + plot_h,
        "axis_right": WIDTH - 8,
        "top_y": MARGIN_TOP,
        "label_y": HEIGHT - 8,
        "first": series[0][0] if series else None,
        "last": series[-1][0] if series else None,
    }


def funnel(protocol):
    """[(label, count, unsubscribed_after)] from confirmation through each step to completion.

    Counts come from the outbox (emails actually sent per step position) and the signups
    (unsubscribes grouped by the last step they had received), three queries in all.
    """
    from django.db.models import Q

    from .models import EmailDelivery, Signup

    confirmed = protocol.signups.filter(confirmed_at__isnull=False)
    received = dict(
        EmailDelivery.objects.filter(signup__protocol=protocol, kind=EmailDelivery.Kind.STEP, sent_at__isnull=False)
        .values("step_position")
        .annotate(n=Count("signup", distinct=True))
        .values_list("step_position", "n")
    )
    unsubscribed_after = dict(
        confirmed.filter(status=Signup.Status.UNSUBSCRIBED)
        .values("last_position_sent")
        .annotate(n=Count("id"))
        .values_list("last_position_sent", "n")
    )
    totals = confirmed.aggregate(n=Count("id"), completed=Count("id", filter=Q(completed_at__isnull=False)))
    subjects = dict(protocol.steps.values_list("position", "subject"))
    positions = sorted(set(subjects) | {p for p in received if p is not None})
    rows = [("Confirmed", totals["n"], unsubscribed_after.get(0, 0))]
    for position in positions:
        label = f"Step {position}: {subjects[position]}" if position in subjects else f"Step {position} (deleted)"
        rows.append((label, received.get(position, 0), unsubscribed_after.get(position, 0)))
    rows.append(("Completed", totals["completed"], None))
    return rows


FUNNEL_WIDTH, FUNNEL_ROW, FUNNEL_LABEL = 720, 26, 300


def funnel_chart(rows):
    """Geometry for templates/admin/protocols/funnel_chart.html: one horizontal bar a row."""
    peak = max((count for _, count, _ in rows), default=0) or 1
    plot_w = FUNNEL_WIDTH - FUNNEL_LABEL - 60
    bars = []
    for i, (label, count, unsubscribed) in enumerate(rows):
        bars.append(
            {
                "label": label,
                "count": count,
                "unsubscribed": unsubscribed,
                "y": i * FUNNEL_ROW + 4,
                "text_y": i * FUNNEL_ROW + 18,
                "width": round(plot_w * count / peak, 1),
                "x": FUNNEL_LABEL,
                "count_x": round(FUNNEL_LABEL + plot_w * count / peak + 6, 1),
            }
        )
    return {"width": FUNNEL_WIDTH, "height": len(rows) * FUNNEL_ROW + 8, "bars": bars, "label_x": FUNNEL_LABEL - 8}

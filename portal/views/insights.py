"""Owns the Insights pages: the admin's usage over a period (charts, tables, exports, the
monthly report per group) and each user's own usage; the JSON/CSV API behind them."""

from __future__ import annotations

from datetime import UTC, datetime

from jupyterhub.scopes import needs_scope

from ..governance.user_usage import user_usage
from ..insights import service
from ..insights.exports import as_csv
from ..insights.periods import parse_month, parse_period
from ..platform.errors import ActionRefused
from ..platform.hub_queries import group_members, running_server_names
from .admin_pages import frame
from .api import PortalAPIHandler
from .base import PortalCommon, PortalHandler, portal_authenticated

INSIGHTS_SCOPE = "admin:servers"  # like the live usage table


class InsightsCommon(PortalCommon):
    def argument(self, name: str) -> str:
        return self.get_argument(name, "")  # type: ignore[attr-defined]

    async def insights(self) -> service.Insights:
        period = parse_period(self.argument, datetime.now(UTC))
        members = group_members(self.db)  # type: ignore[attr-defined]
        return await service.insights(self.runtime.store, period, members)

    async def own_usage(self, user_name: str) -> service.OwnUsage:
        user = self.target_user(user_name)
        limits = await self.runtime.limits.for_groups(g.name for g in user.groups)
        running = running_server_names(self.db, [user.name]).get(user.name, [])
        return await service.own_usage(self.runtime.store, user.name, datetime.now(UTC),
                                       user_usage(self.runtime.usage, user.name, running),
                                       limits.memory or 0)

    def export(self, name: str, rows: list[dict[str, object]]) -> None:
        """`format=csv` (a download) or JSON (`{"rows": [...]}`)."""
        fmt = self.argument("format") or "json"
        if fmt not in ("csv", "json"):
            raise ActionRefused("format must be csv or json.", 400)
        if fmt == "json":
            return self.finish({"rows": rows})  # type: ignore[attr-defined]
        self.set_header("Content-Type", "text/csv; charset=utf-8")  # type: ignore[attr-defined]
        self.set_header("Content-Disposition",  # type: ignore[attr-defined]
                        f'attachment; filename="dshub-{name}.csv"')
        return self.finish(as_csv(rows))  # type: ignore[attr-defined]


class InsightsPageHandler(InsightsCommon, PortalHandler):
    @portal_authenticated
    @needs_scope(INSIGHTS_SCOPE)
    async def get(self) -> None:
        report = await self.insights()
        users = self.portal_url("admin", "users")
        self.finish(await self.render_fragment(
            "pages/insights.html", report=report, charts=report.charts(
                f"{users}?q=", f"{users}?group="), now=datetime.now(UTC),
            table_users=service.TABLE_USERS, **frame(self, "insights")))


class InsightsAPI(InsightsCommon, PortalAPIHandler):
    """`GET /hub/portal/api/insights/{timeline,daily,groups,users}?period=&since=&until=&format=`
    (the tables of the Insights page)."""

    @needs_scope(INSIGHTS_SCOPE)
    async def get(self, table: str) -> None:
        report = await self.insights()
        self.export(f"insights-{table}-{report.period.name}", report.rows(table))


class MonthlyReportAPI(InsightsCommon, PortalAPIHandler):
    """`GET /hub/portal/api/insights/monthly?month=YYYY-MM&format=csv|json`: one row per group."""

    @needs_scope(INSIGHTS_SCOPE)
    async def get(self) -> None:
        since, until = parse_month(self.argument("month"), datetime.now(UTC))
        groups = await service.monthly(self.runtime.store, since, until, group_members(self.db))
        self.export(f"groups-{since:%Y-%m}", [{"month": f"{since:%Y-%m}", **g.as_json()}
                                              for g in groups])


class OwnUsageHandler(InsightsCommon, PortalHandler):
    @portal_authenticated
    @needs_scope("read:servers")
    async def get(self, user_name: str) -> None:
        usage = await self.own_usage(user_name)
        self.finish(await self.render_fragment("partials/own_usage.html", usage=usage,
                                               charts=usage.charts()))


class OwnUsageAPI(InsightsCommon, PortalAPIHandler):
    @needs_scope("read:servers")
    async def get(self, user_name: str) -> None:
        self.write((await self.own_usage(user_name)).as_json())


routes = [
    (r"/portal/admin/insights", InsightsPageHandler),
    (r"/portal/api/insights/monthly", MonthlyReportAPI),
    (rf"/portal/api/insights/({'|'.join(service.TABLES)})", InsightsAPI),
    (r"/portal/users/([^/]+)/usage-history", OwnUsageHandler),
    (r"/portal/api/users/([^/]+)/usage/history", OwnUsageAPI),
]

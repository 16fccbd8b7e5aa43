"""The `yimen` command: migrate, import, users, demo data, the mini-program status list, serve."""

from __future__ import annotations

import asyncio
import importlib
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from tqdm import tqdm

from backend.config import ConfigError, Settings, load_settings
from backend.errors import Problem

T = TypeVar("T")


_embedded_postgres: Any = None


def _settings() -> Settings:
    """The settings; with no YIMEN_DATABASE_URL (development), the embedded PostgreSQL's."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if settings.database_url:
        return settings
    global _embedded_postgres
    if _embedded_postgres is None:
        from backend.embedded import EmbeddedPostgres

        try:
            # Stopped when this process exits (the package's atexit hook) or by `serve`.
            _embedded_postgres = EmbeddedPostgres(settings.data_dir)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None
        # Child processes (the task worker, Sanic's workers) use the same server.
        os.environ["YIMEN_DATABASE_URL"] = _embedded_postgres.url
    return settings.with_overrides(database_url=_embedded_postgres.url)


def _run_with_db(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    from backend.db import close_db, init_db

    async def runner() -> T:
        await init_db(settings)
        try:
            return await work()
        finally:
            await close_db()

    try:
        return asyncio.run(runner())
    except Problem as exc:
        raise click.ClickException(exc.detail) from None


@contextmanager
def _progress(desc: str, total: int | None = None) -> Any:
    with tqdm(total=total, desc=desc, unit="条", file=sys.stderr, leave=True) as bar:
        yield bar.update


@click.group()
def main() -> None:
    """一门通 (Yimen) 管理命令。"""


@main.command()
def migrate() -> None:
    """应用数据库迁移 (apply the committed migrations)."""
    from backend.db import migrate as run_migrations

    settings = _settings()
    asyncio.run(run_migrations(settings))
    click.echo("数据库迁移完成")


@main.command("mp-statuses")
def mp_statuses() -> None:
    """打印小程序状态清单 (docs/mp-statuses.json: every status /mp/v1 sends, with its label)."""
    from backend.api.mp.statuses import render

    click.echo(render(), nl=False)


@main.command("grant-app-role")
def grant_app_role() -> None:
    """创建或更新应用的数据库角色及其权限（以表的所有者运行，可重复执行）."""
    from backend.db_roles import create_or_update_app_role

    settings = _settings()
    if not settings.app_db_password:
        raise click.ClickException("请设置 YIMEN_APP_DB_PASSWORD（应用数据库角色的密码）")
    try:
        asyncio.run(
            create_or_update_app_role(
                owner_dsn=settings.database_url,
                role=settings.app_db_user,
                password=settings.app_db_password,
            )
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"数据库角色 {settings.app_db_user} 已就绪")


@main.command("import-divisions")
@click.option(
    "--dir",
    "directory",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="含 provinces/cities/areas/streets.csv 的目录（默认内置 2023 版）",
)
@click.option("--version", "version", default="2023", show_default=True, help="区划代码版本")
def import_divisions(directory: Path | None, version: str) -> None:
    """导入国家统计局区划代码（省、市、县、乡镇）。"""
    from backend.demo import DIVISIONS_DIR
    from backend.geo import service as geo_service
    from backend.geo.models import Division, Level
    from backend.windows import service as windows_service

    settings = _settings()

    async def work() -> None:
        with _progress("写入区划") as step:
            report = await geo_service.import_divisions(
                directory=directory or DIVISIONS_DIR, version=version, progress=step
            )
        _print_report(report)
        if report.written:
            with _progress("受理窗口") as step:
                await windows_service.create_missing_windows(
                    townships=await geo_service.list_townships(), progress=step
                )
            await windows_service.create_missing_departments(
                counties=await Division.filter(level=Level.COUNTY, abolished=False)
            )

    _run_with_db(settings, work)


@main.command("import-villages")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--version", "version", default="local", show_default=True)
@click.option("--skip-invalid", is_flag=True, help="只导入无误的行（默认有错则全部不导入）")
def import_villages(file: Path, version: str, skip_invalid: bool) -> None:
    """导入村（社区）代码：CSV 列 code,name,township_code,kind,lng,lat。"""
    from backend.geo import service as geo_service

    settings = _settings()

    async def work() -> None:
        with _progress("写入村（社区）") as step:
            report = await geo_service.import_villages(
                path=file, version=version, skip_invalid=skip_invalid, progress=step
            )
        _print_report(report)

    _run_with_db(settings, work)


@main.command("import-boundaries")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--crs",
    type=click.Choice(["wgs84", "gcj02"]),
    required=True,
    help="文件坐标系：wgs84（含 CGCS2000）或 gcj02（腾讯、高德导出）",
)
@click.option("--code-field", default=None, help="9 位乡镇代码所在属性（默认 code）")
@click.option("--name-field", default=None, help="按乡镇名称匹配时的名称属性（须与 --within 同用）")
@click.option("--within", default=None, help="按名称匹配时所属县的 6 位代码")
def import_boundaries(
    file: Path, crs: str, code_field: str | None, name_field: str | None, within: str | None
) -> None:
    """导入乡镇（街道）边界：GeoJSON，Polygon/MultiPolygon，按代码或县内名称匹配。"""
    from backend.geo import boundaries

    settings = _settings()
    if code_field and name_field:
        raise click.UsageError("--code-field 与 --name-field 只能选其一")
    if name_field and not within:
        raise click.UsageError("--name-field 须与 --within 同用")

    async def work() -> boundaries.BoundaryReport:
        with _progress("检查边界") as step:
            return await boundaries.import_boundaries(
                path=file,
                crs="gcj02" if crs == "gcj02" else "wgs84",
                code_field=code_field,
                name_field=name_field,
                within=within,
                progress=step,
            )

    report = _run_with_db(settings, work)
    for issue in report.rejected:
        click.echo(f"错误 {issue}", err=True)
    for issue in report.repaired:
        click.echo(f"已修复 {issue}", err=True)
    for overlap in report.overlaps:
        click.echo(f"警告 {overlap}", err=True)
    for gap in report.gaps:
        click.echo(f"警告 {gap}", err=True)
    if not report.written:
        raise click.ClickException(report.summary())
    click.echo(report.summary())


def _print_report(report: Any) -> None:
    for problem in report.problems:
        click.echo(f"错误 {problem}", err=True)
    if report.written:
        click.echo(
            f"新增 {report.created}，更新 {report.updated}，未变 {report.unchanged}，"
            f"撤销 {report.abolished}"
            + (f"，跳过有误的 {len(report.problems)} 行" if report.problems else "")
        )
    if report.problems and not report.written:
        raise click.ClickException(f"有 {len(report.problems)} 行有误，未导入任何数据")


@main.group()
def user() -> None:
    """用户管理。"""


@user.command("add")
@click.option("--role", required=True, help="grid_worker 或工作人员角色（window_clerk 等）")
@click.option("--username", required=True)
@click.option("--jurisdiction", required=True, help="区划代码：工作人员的管辖范围或网格员的乡镇/村")
@click.option("--village", "villages", multiple=True, help="网格员的村（社区）代码，可重复")
@click.option("--name", "display_name", default="", help="显示名")
def user_add(
    role: str, username: str, jurisdiction: str, villages: tuple[str, ...], display_name: str
) -> None:
    """新增用户；用户名已存在则更新。密码取自 YIMEN_PASSWORD 或提示输入。"""
    from backend.accounts.models import User
    from backend.accounts.service import UserIn, upsert_user

    settings = _settings()
    password = os.environ.get("YIMEN_PASSWORD")

    async def exists() -> bool:
        return await User.filter(username=username).exists()

    if password is None:
        existing = _run_with_db(settings, exists)
        if existing and not sys.stdin.isatty():
            password = None
        else:
            password = (
                click.prompt(
                    "密码（已有用户留空则不改）" if existing else "密码",
                    hide_input=True,
                    confirmation_prompt=True,
                    default="" if existing else None,
                    show_default=False,
                )
                or None
            )

    async def work() -> tuple[Any, bool]:
        return await upsert_user(
            user_in=UserIn(
                username=username,
                role=role,
                jurisdiction=jurisdiction,
                password=password,
                display_name=display_name,
                villages=villages,
            )
        )

    account, created = _run_with_db(settings, work)
    verb = "已新增" if created else "已更新"
    click.echo(f"{verb}用户 {account.username}（{role}，{account.jurisdiction}）")


@user.command("disable")
@click.option("--username", required=True)
def user_disable(username: str) -> None:
    """停用用户并立即注销其全部登录。"""
    from backend.accounts.service import set_user_active
    from backend.accounts.tokens import TokenStore
    from backend.redis_conn import connect_redis

    settings = _settings()
    if not settings.redis_url:
        raise click.ClickException("需要 YIMEN_REDIS_URL 才能注销登录令牌")

    async def work() -> None:
        redis = connect_redis(settings.redis_url)
        tokens = TokenStore(
            redis,
            secret=settings.secret_key,
            access_ttl=settings.access_token_ttl,
            refresh_ttl=settings.refresh_token_ttl,
            prefix=settings.redis_prefix,
        )
        try:
            await set_user_active(username=username, active=False, tokens=tokens)
        finally:
            await redis.aclose()

    _run_with_db(settings, work)
    click.echo(f"已停用 {username}")


@main.command()
@click.option("--workers", type=int, default=1, show_default=True, help="worker processes")
def worker(workers: int) -> None:
    """启动后台任务进程（taskiq，Redis Streams）。"""
    from taskiq.cli.worker.args import WorkerArgs
    from taskiq.cli.worker.run import run_worker

    settings = _settings()
    if not settings.redis_url:
        raise click.ClickException("后台任务需要 YIMEN_REDIS_URL")
    args = WorkerArgs.from_cli(
        ["backend.jobs.broker:broker", "backend.jobs.worker", "--workers", str(workers)]
    )
    raise SystemExit(run_worker(args) or 0)


@main.command()
def demo() -> None:
    """载入演示数据（区划、演示村、窗口、演示账号）；已有的不重复载入。"""
    from backend.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, load_demo

    settings = _settings()
    if settings.is_production:
        raise click.ClickException("生产环境不载入演示数据")
    for line in _run_with_db(settings, lambda: load_demo(settings=settings)):
        click.echo(line)
    click.echo(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
    for account in DEMO_ACCOUNTS:
        click.echo(f"  {account.username:<16} {account.display_name}（{account.jurisdiction}）")


def _create_app() -> Any:
    """The web app, built in each Sanic worker from the environment.

    Imported by name: the CLI and the app are both composition roots, and neither imports the
    other (the layers contract). A module-level function, so Sanic can pickle it for workers.
    """
    return importlib.import_module("backend.app").create_app()


@main.command()
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
@click.option("--workers", type=int, default=None)
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """启动 HTTP 服务；未配置数据库或 Redis 时启动内置的 PostgreSQL、Redis。"""
    from sanic import Sanic
    from sanic.worker.loader import AppLoader

    settings = _settings()
    host, port = host or settings.host, port or settings.port
    embedded = None
    if not settings.redis_url:
        if settings.is_production:
            raise click.ClickException("生产环境必须配置 YIMEN_REDIS_URL")
        from backend.redis_conn import EmbeddedRedis

        embedded = EmbeddedRedis(settings.data_dir)
        # Worker processes read their settings from the environment they inherit.
        os.environ["YIMEN_REDIS_URL"] = embedded.url
    task_worker = None
    if embedded is not None:
        # On embedded defaults one command runs everything, photo processing included.
        task_worker = subprocess.Popen([sys.executable, "-m", "backend.cli", "worker"])
    try:
        loader = AppLoader(factory=_create_app)
        app = loader.load()
        base = f"http://{host}:{port}"
        click.echo(f"一门通已启动：{base}/")
        click.echo(f"  窗口控制台：{base}/console/")
        click.echo(f"  API 文档：{base}/docs")
        click.echo(f"  就绪检查：{base}/readyz")
        click.echo(f"  居民小程序接口：{base}/mp/v1（用微信开发者工具打开 miniprogram/）")
        if _embedded_postgres is not None:
            click.echo(f"  内置 PostgreSQL：{_embedded_postgres.pgdata}（数据保留到下次启动）")
        if not settings.wechat_appid:
            click.echo("  未配置 YIMEN_WECHAT_APPID：小程序登录使用开发替身，无需连接微信")
        click.echo("  按 Ctrl-C 停止")
        count = workers or settings.workers
        # One worker runs in this process: no worker manager, Ctrl-C goes straight to it.
        app.prepare(
            host=host,
            port=port,
            workers=count,
            motd=False,
            single_process=count == 1,
            access_log=False,
        )
        if count == 1:
            Sanic.serve_single(primary=app)
        else:
            Sanic.serve(primary=app, app_loader=loader)
    finally:
        if task_worker is not None:
            task_worker.terminate()
            try:
                task_worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                task_worker.kill()
        if embedded is not None:
            embedded.stop()
        if _embedded_postgres is not None:
            _embedded_postgres.stop()


if __name__ == "__main__":
    main()

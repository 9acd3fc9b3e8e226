"""Command line: `python -m bot` runs the bot; sub-commands share the same settings.

python -m bot                      run the bot (polling), after applying migrations
python -m bot invite --role coordinator --name "Nom"
python -m bot migrate              apply migrations and reference data only
python -m bot health               exit 0 when the running bot is healthy (Docker's health check)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

import uvicorn
from cryptography.fernet import Fernet, MultiFernet
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from telegram import Update

from bot import health, texts
from bot.app import BotApplication, build_application, settle_heap
from bot.backups import DEFAULT_KEEP, NotSQLite, backup_sqlite
from bot.context import Services
from bot.db import create_engine, make_sessions, upgrade_database
from bot.formatting import day, plural
from bot.settings import DEFAULT_DATA_DIR, Settings
from bot.web import WEBHOOK_PATH as WEB_WEBHOOK_PATH
from bot.web import build_web_app
from jobs.retention import run_retention
from models import botstate, crypto, privacy, reference, team
from models.base import utcnow
from models.team import Role

logger = logging.getLogger("bot")
WEBHOOK_PATH = "telegram"


# Libraries whose debug output carries message texts, SQL parameters or URLs with the token:
# they never go below these levels, whatever LOG_LEVEL says.
LIBRARY_FLOORS = {
    "httpx": logging.WARNING,  # request URLs hold the token
    "httpcore": logging.WARNING,
    "apscheduler": logging.WARNING,
    "aiosqlite": logging.WARNING,  # SQL parameters: names, phones, notes
    "asyncpg": logging.WARNING,
    "sqlalchemy": logging.WARNING,
    "telegram": logging.INFO,  # DEBUG dumps every Bot API call with its texts
}


def configure_logging(level: str) -> None:
    """Configure logging once, with personal data kept out of every line."""
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    for name, floor in LIBRARY_FLOORS.items():
        logging.getLogger(name).setLevel(max(floor, logging.getLevelNamesMapping()[level]))


async def load_reference(settings: Settings) -> None:
    """Bring the reference tables in line with the versioned file."""
    engine = create_engine(settings.database_url)
    try:
        async with make_sessions(engine).begin() as session:
            await reference.load_reference_data(session=session)
    finally:
        await engine.dispose()


def prepare_database(settings: Settings) -> None:
    """Migrations, then reference data: what every command needs first."""
    upgrade_database(settings.database_url)
    asyncio.run(load_reference(settings))


def sqlite_path(settings: Settings) -> Path | None:
    """The SQLite database file, if the database is one."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database).resolve()


def tighten_files(settings: Settings) -> None:
    """Owner-only data: the umask (077, set by `main`) covers what this process creates; the
    SQLite files and the data folder an earlier version left readable (0644, 0755) are
    tightened. Only files and folders of this user, and no folder but the project's data/."""
    database = sqlite_path(settings)
    paths = [Path(f"{database}{suffix}") for suffix in ("", "-wal", "-shm", "-journal")]
    for path, mode in [*((p, 0o600) for p in paths if database), (DEFAULT_DATA_DIR, 0o700)]:
        try:
            found = path.stat()
            if found.st_uid == os.getuid() and found.st_mode & 0o077:
                path.chmod(mode)
        except OSError:  # absent, or not ours to change
            continue


async def open_keys(settings: Settings) -> bool:
    """Configure the keys, or say no (False) rather than lose what is stored: a key file is
    created only when the database holds no encrypted value, and the configured keys must
    decrypt the stored probe (without a probe, the stored values). Stores the probe."""
    engine = create_engine(settings.database_url)
    try:
        async with engine.begin() as connection:
            if settings.data_encryption_key is not None:
                crypto.configure(settings.encryption_keys())
            else:
                path = settings.data_encryption_key_file
                if not path.exists():
                    if await crypto.holds_encrypted_values(connection=connection):
                        return False
                    crypto.create_key_file(path)
                crypto.configure_from_file(path)
            if not await crypto.keys_read_the_database(
                connection=connection, keys=crypto.cipher()
            ):
                return False
            if await crypto.read_probe(connection=connection) is None:
                await crypto.write_probe(connection=connection)
    finally:
        await engine.dispose()
    return True


def run(settings: Settings) -> int:
    """Run the bot until interrupted."""
    if settings.telegram_bot_token is None:
        print(texts.CLI_NO_TOKEN, file=sys.stderr)
        return 2
    engine = create_engine(settings.database_url, background_checkpoints=True)
    application = build_application(settings, make_sessions(engine))
    settle_heap()
    if settings.public_url:
        logger.info("Starting the bot with its web page on port %s", settings.web_port)
        asyncio.run(serve(application, settings, web_server(application, settings)))
        return 0
    if settings.webhook_url and settings.webhook_secret:
        logger.info("Starting the bot (webhook on port %s)", settings.webhook_port)
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=WEBHOOK_PATH,
            webhook_url=settings.webhook_url.rstrip("/") + "/" + WEBHOOK_PATH,
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=Update.ALL_TYPES,
        )
        return 0
    logger.info("Starting the bot (polling)")
    application.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


def web_server(application: BotApplication, settings: Settings) -> uvicorn.Server:
    """The partners' page (and, in webhook mode, Telegram's webhook) on WEB_PORT. No access
    log: the page's URLs hold single-use codes."""
    secret = settings.webhook_secret if settings.webhook_url else None
    web = build_web_app(application, webhook_secret=secret.get_secret_value() if secret else None)
    config = uvicorn.Config(
        web,
        host=settings.web_listen,
        port=settings.web_port,
        proxy_headers=True,  # the client's address from the TLS proxy (FORWARDED_ALLOW_IPS)
        access_log=False,
        server_header=False,
        log_config=None,
        lifespan="off",
    )
    return uvicorn.Server(config)


async def serve(application: BotApplication, settings: Settings, server: uvicorn.Server) -> None:
    """PTB's custom-webhook pattern: the bot and the ASGI server in one event loop, until
    the server is told to stop (SIGINT, SIGTERM). Updates come from Telegram's webhook when
    WEBHOOK_URL is set, else from polling."""
    async with application:
        if application.post_init is not None:
            await application.post_init(application)
        if settings.webhook_url and settings.webhook_secret:
            await application.bot.set_webhook(
                url=settings.webhook_url.rstrip("/") + WEB_WEBHOOK_PATH,
                secret_token=settings.webhook_secret.get_secret_value(),
                allowed_updates=Update.ALL_TYPES,
            )
        elif application.updater is not None:
            await application.updater.start_polling(allowed_updates=Update.ALL_TYPES)
        await application.start()
        try:
            await server.serve()
        finally:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            await application.stop()


async def invite(settings: Settings, role: Role, name: str, neighbourhood: str | None) -> int:
    """Create an invitation from the command line (bootstrap: no Telegram needed)."""
    engine = create_engine(settings.database_url)
    try:
        async with make_sessions(engine).begin() as session:
            neighbourhood_id = None
            if neighbourhood is not None:
                known = {n.code: n for n in await reference.neighbourhoods(session=session)}
                if neighbourhood not in known:
                    print(
                        texts.CLI_UNKNOWN_NEIGHBOURHOOD.format(
                            code=neighbourhood, known=", ".join(sorted(known))
                        ),
                        file=sys.stderr,
                    )
                    return 2
                neighbourhood_id = known[neighbourhood].id
            elif role == Role.MEDIATOR:
                print(texts.CLI_NEIGHBOURHOOD_REQUIRED, file=sys.stderr)
                return 2
            issued = await team.create_invitation(
                session=session,
                role=role,
                display_name=name,
                neighbourhood_id=neighbourhood_id,
                now=utcnow(),
                ttl=settings.invitation_ttl,
            )
            username = await botstate.get_setting(session=session, key="bot_username")
    finally:
        await engine.dispose()
    print(
        texts.CLI_INVITE_CREATED.format(
            role=texts.ROLE_LABELS[role.value],
            name=issued.invitation.display_name,
            expires=day(issued.invitation.expires_at, settings.tz),
            code=issued.code,
        )
    )
    if username:
        link = f"https://t.me/{username}?start={issued.code}"
        print(texts.CLI_INVITE_LINK.format(link=link))
    return 0


def counted(counts: dict[str, int]) -> dict[str, str]:
    """The demo data's figures as French counts (« 1 personne », « 12 orientations »)."""
    return {key: plural(count, *texts.CLI_COUNTS[key]) for key, count in counts.items()}


async def demo_data(
    settings: Settings, people: int, seed: int, force: bool, remove: bool = False
) -> int:
    """Fill the database with a realistic year, for a first look at the digest and exports
    (or, with `remove`, delete everything the demo data made)."""
    from models import demo  # Faker: loaded only by this command, not by the running bot

    engine = create_engine(settings.database_url)
    if remove:
        try:
            async with make_sessions(engine).begin() as session:
                removed = await demo.remove(session=session)
        finally:
            await engine.dispose()
        if not any(removed.values()):
            print(texts.CLI_DEMO_NOTHING)
            return 0
        print(texts.CLI_DEMO_REMOVED.format(**counted(removed)))
        return 0
    try:
        async with make_sessions(engine).begin() as session:
            counts = await demo.generate(
                session=session, size=demo.DemoSize(people=people), now=utcnow(), seed=seed,
                force=force,
            )  # fmt: skip
    except demo.RealDataPresent:
        print(texts.CLI_DEMO_REFUSED, file=sys.stderr)
        return 2
    finally:
        await engine.dispose()
    print(texts.CLI_DEMO_DONE.format(**counted(counts)))
    return 0


async def rotate_key(settings: Settings) -> int:
    """Re-encrypt phones and notes with a new key (key file), or with the newest configured key
    (DATA_ENCRYPTION_KEY="new,old"); safe while the bot runs.

    With the key file: the new key goes in front of the old ones before any value changes (a
    crash loses nothing; a running bot reads the file before it encrypts, so from then on it
    writes with the new key, and reads what is re-encrypted). Then every value is re-encrypted.
    The previous key stays: a running bot's transaction may have encrypted with it just before
    the file changed and commit after the pass. Older keys go: every process has written with
    the previous key since the previous rotation, and this pass re-encrypted what they held.
    """
    using_file = settings.data_encryption_key is None
    path = settings.data_encryption_key_file
    if using_file:
        keys = [crypto.new_key(), *crypto.read_key_file(path)]
        crypto.write_key_file(path, keys)
    else:
        keys = settings.encryption_keys()
    rotating = MultiFernet([Fernet(k) for k in keys])
    engine = create_engine(settings.database_url)
    try:
        sessions = make_sessions(engine)
        done = await crypto.rotate_in_batches(sessions=sessions, rotating=rotating)
        async with sessions.begin() as session:  # drafts: one token per member
            await botstate.reencrypt_drafts(session=session, rotating=rotating)
    finally:
        await engine.dispose()
    print(plural(done.rewritten, *texts.CLI_ROTATED))
    if done.unreadable:
        print(plural(done.unreadable, *texts.CLI_ROTATE_UNREADABLE), file=sys.stderr)
    elif using_file:
        crypto.write_key_file(path, keys[:2])
        print(texts.CLI_ROTATED_FILE.format(path=path, dropped=len(keys) - len(keys[:2])))
    if not using_file:
        print(texts.CLI_ROTATED_ENV)
    return 0


async def retention(settings: Settings, dry_run: bool) -> int:
    """Anonymise people past the retention period (or, with --dry-run, list them by code)."""
    engine = create_engine(settings.database_url)
    try:
        sessions = make_sessions(engine)
        if dry_run:
            async with sessions() as session:
                due = await privacy.due_for_retention(
                    session=session, now=utcnow(), months=settings.retention_months
                )
            for person in due:
                print(
                    texts.CLI_RETENTION_LINE.format(
                        code=person.code, last_contact=day(person.last_contact_at, settings.tz)
                    )
                )
            print(texts.CLI_RETENTION_DRY.format(count=len(due), months=settings.retention_months))
            return 0
        services = Services(settings=settings, sessions=sessions, clock=utcnow)
        counts = await run_retention(services)
    finally:
        await engine.dispose()
    print(texts.CLI_RETENTION_DONE.format(**counts))
    return 0


def backup(settings: Settings, folder: Path, keep: int) -> int:
    """Copy the SQLite database to a dated owner-only file; keep the newest `keep` copies.
    PostgreSQL: say that pg_dump is the tool (it is not run from here)."""
    try:
        done = backup_sqlite(settings.database_url, folder, utcnow(), keep=keep)
    except NotSQLite:
        print(texts.CLI_BACKUP_POSTGRES, file=sys.stderr)
        return 2
    except FileExistsError:
        print(texts.CLI_BACKUP_EXISTS, file=sys.stderr)
        return 2
    print(texts.CLI_BACKUP_DONE.format(path=done.path))
    print(plural(keep, *texts.CLI_BACKUP_KEPT, removed=len(done.removed)))
    return 0


async def health_check(settings: Settings) -> int:
    """Docker's health check: one French line, exit 0 when healthy, 1 otherwise."""
    healthy, sentence = await health.check(settings)
    print(sentence, file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


def _at_least_one(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(texts.CLI_BACKUP_KEEP_INVALID)
    return number


def parser() -> argparse.ArgumentParser:
    """The command line."""
    cli = argparse.ArgumentParser(prog="python -m bot", description="Assistant AVEQ")
    commands = cli.add_subparsers(dest="command")
    commands.add_parser("run", help="lancer le bot (par défaut)")
    commands.add_parser("migrate", help="appliquer les migrations et les données de référence")
    inv = commands.add_parser("invite", help="créer une invitation à usage unique")
    inv.add_argument("--role", required=True, choices=[r.value for r in Role])
    inv.add_argument("--name", required=True, help="nom affiché dans l'équipe")
    inv.add_argument("--quartier", dest="neighbourhood", help="code du quartier (médiateur·rice)")
    ret = commands.add_parser(
        "retention", help="anonymiser les personnes sans contact depuis 24 mois"
    )
    ret.add_argument("--dry-run", action="store_true", help="lister sans rien changer")
    bak = commands.add_parser("backup", help="copier la base SQLite dans un fichier daté")
    bak.add_argument("--to", default=str(DEFAULT_DATA_DIR / "backups"), help="dossier")
    bak.add_argument(
        "--keep", type=_at_least_one, default=DEFAULT_KEEP,
        help=f"sauvegardes gardées, les plus récentes ({DEFAULT_KEEP})",
    )  # fmt: skip
    commands.add_parser("rotate-key", help="rechiffrer téléphones et notes avec une nouvelle clé")
    commands.add_parser("new-key", help="afficher une nouvelle clé pour DATA_ENCRYPTION_KEY")
    commands.add_parser(
        "health", help="vérifier que le bot tourne : base joignable, Telegram interrogé récemment"
    )
    dem = commands.add_parser("demo-data", help="remplir la base avec une année de démonstration")
    dem.add_argument("--people", type=int, default=800, help="personnes accrochées (800)")
    dem.add_argument("--seed", type=int, default=2024, help="graine du hasard (2024)")
    dem.add_argument("--force", action="store_true", help="même si la base contient des personnes")
    dem.add_argument(
        "--remove", action="store_true", help="supprimer tout ce que la démonstration a créé"
    )
    return cli


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    os.umask(0o077)  # database files, key file, backups, data/: owner-only from the first byte
    args = parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        print(exc, file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    if args.command == "new-key":
        print(crypto.new_key())
        return 0
    if args.command == "health":
        return asyncio.run(health_check(settings))
    if args.command in (None, "run") and settings.telegram_bot_token is None:
        print(texts.CLI_NO_TOKEN, file=sys.stderr)
        return 2
    tighten_files(settings)
    prepare_database(settings)
    if args.command == "backup":  # a copy needs no key: possible while a key is being found
        return backup(settings, Path(args.to), args.keep)
    source = (
        "DATA_ENCRYPTION_KEY"
        if settings.data_encryption_key is not None
        else str(settings.data_encryption_key_file)
    )
    try:
        ready = asyncio.run(open_keys(settings))
    except crypto.KeyFileUnusable:
        ready = False
    except (PermissionError, ValueError) as exc:
        print(texts.CLI_KEY_PROBLEM.format(problem=exc), file=sys.stderr)
        return 2
    if not ready:
        print(texts.CLI_KEYS_REFUSED.format(source=source), file=sys.stderr)
        return 2
    if args.command in (None, "run"):
        return run(settings)
    if args.command == "invite":
        return asyncio.run(invite(settings, Role(args.role), args.name, args.neighbourhood))
    if args.command == "retention":
        return asyncio.run(retention(settings, args.dry_run))
    if args.command == "rotate-key":
        return asyncio.run(rotate_key(settings))
    if args.command == "demo-data":
        return asyncio.run(
            demo_data(settings, args.people, args.seed, args.force, remove=args.remove)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

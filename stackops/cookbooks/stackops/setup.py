"""stackops::setup — the folders every node needs, each app's deploy_to layout, the layers'
packages (and pending updates, InstallUpdatesOnBoot) and each app's SSL certificate files."""

from stackops.converge.declare import Run
from stackops.cookbooks.apps import apps_of

BASE_FOLDERS = ("/etc/stackops", "/var/lib/stackops", "/var/log/stackops", "/var/run/stackops")


def recipe(run: Run) -> None:
    for folder in BASE_FOLDERS:
        run.directory(folder, mode=0o755)
    for app in apps_of(run.node):
        top = run.directory(app.deploy_to, mode=0o755, owner=app.owner, group=app.group)
        for sub in ("releases", "shared"):
            run.directory(
                f"{app.deploy_to}/{sub}",
                mode=0o755,
                owner=app.owner,
                group=app.group,
                requires=[top],
            )
    _packages_and_ssl(run)


def _packages_and_ssl(run: Run) -> None:
    """The layers' Packages and InstallUpdatesOnBoot; each app's SSL certificate files."""
    instance = (run.node.get("stackops") or {}).get("instance") or {}
    if instance.get("install_updates_on_boot"):
        run.package("pending updates", action="upgrade")
    if instance.get("packages"):
        run.package("layer packages", packages=list(instance["packages"]))
    for _name, attrs in sorted((run.node.get("deploy") or {}).items()):
        ssl = attrs.get("ssl") or {}
        if not ssl.get("enabled"):
            continue
        folder = run.directory(f"{attrs['deploy_to']}/shared/ssl", mode=0o755)
        run.file(ssl["certificate_file"], content=ssl["certificate"], mode=0o644, requires=[folder])
        run.file(
            ssl["key_file"],
            content=ssl["private_key"],
            mode=0o600,
            sensitive=True,
            requires=[folder],
        )
        if ssl.get("chain_file"):
            run.file(ssl["chain_file"], content=ssl["chain"], mode=0o644, requires=[folder])

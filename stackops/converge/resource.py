"""Resource types: the base class, change values, and the one registry of types.

Every type reads the current state (`current`), computes its change as a value with
the pure `change(current, desired)`, then makes only that change (`apply`). The
engine never looks inside a change: it prints `summary` and `diff`, and applies it
unless the run is a dry run.
"""

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple, Protocol

from stackops.errors import InvalidInput

if TYPE_CHECKING:
    from stackops.converge.context import ConvergeContext

Timing = Literal["delayed", "immediate"]


class DeclarationError(ValueError):
    """A resource was declared with a keyword or value that is not valid."""


class Origin(NamedTuple):
    """Where a resource was declared: its recipe, file and line, and its cookbook folder."""

    recipe: str
    file: str
    line: int
    cookbook_dir: Path

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class NoChange(NamedTuple):
    """The resource is already as desired; `reason` says how it was found."""

    reason: str

    def __str__(self) -> str:
        return self.reason


class Change(Protocol):
    """What a change value shows: a one-line summary and maybe a diff.

    Each type's change is a NamedTuple holding what its `apply` needs.
    """

    @property
    def summary(self) -> str: ...

    @property
    def diff(self) -> str | None: ...


class Trigger(NamedTuple):
    """A reference to a resource in `notifies=`/`subscribes=`, with its timing."""

    target: "Resource | str"
    timing: Timing = "delayed"


class Resource:
    """One declared resource.

    A type declares its keywords as annotated class attributes with their defaults;
    `__init_subclass__` collects them into `keywords` when the class is made. (Plain
    classes, not dataclasses: a dataclass costs ~0.5 ms to create, and `stackops solo`
    pays for every type at start-up.)
    """

    type_name: ClassVar[str] = ""
    actions: ClassVar[tuple[str, ...]] = ("create",)
    # Actions that change something every time they run (run a command, restart):
    # on a notification target they happen only when it is notified.
    triggered_actions: ClassVar[frozenset[str]] = frozenset()
    # The keywords of a minimal valid declaration (a test walks the registry with them).
    example: ClassVar[dict[str, Any]] = {}
    # keyword -> default, for every keyword a recipe may pass (collected per class).
    keywords: ClassVar[dict[str, Any]] = {}

    name: str
    origin: Origin
    action: str = ""
    requires: Sequence[Any] = ()
    notifies: Sequence[Any] = ()
    subscribes: Sequence[Any] = ()
    on_notify: str | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        keywords: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            for key, annotation in vars(klass).get("__annotations__", {}).items():
                if key in ("name", "origin") or _is_class_var(annotation):
                    continue
                keywords[key] = vars(klass).get(key)
        cls.keywords = keywords

    def __init__(self, *, name: str, origin: Origin, **options: Any) -> None:
        unknown = sorted(set(options) - self.keywords.keys())
        if unknown:
            raise DeclarationError(
                f"unknown keyword {', '.join(unknown)}; valid: {', '.join(self.keywords)}"
            )
        self.name = name
        self.origin = origin
        # keywords are plain class attributes (no descriptors): fill the instance at once
        self.__dict__.update(self.keywords)
        self.__dict__.update(options)
        if not self.action:
            self.action = self.actions[0]
        for key in ("requires", "notifies", "subscribes"):
            refs = getattr(self, key)
            if isinstance(refs, Resource | Trigger | str):
                refs = [refs]
            if not isinstance(refs, list | tuple):
                raise DeclarationError(f"{key}= takes a list of resources, not {refs!r}")
            for ref in refs:
                if not isinstance(ref, Resource | Trigger | str):
                    raise DeclarationError(
                        f"{key}= takes resources (what run.file() etc. return), "
                        f"'type[name]' strings or .immediately; got {ref!r}"
                    )
            setattr(self, key, tuple(refs))
        for action in (self.action, self.on_notify):
            if action is not None and action not in self.actions:
                raise DeclarationError(
                    f"action {action!r} is not valid; valid: {', '.join(self.actions)}"
                )
        self.validate()

    def __repr__(self) -> str:
        return f"<{self.id} declared at {self.origin}>"

    @property
    def id(self) -> str:
        """`type[name]`, how reports and string references name the resource."""
        return f"{self.type_name}[{self.name}]"

    @property
    def immediately(self) -> Trigger:
        """This resource, notified right after the change instead of at the end of the run."""
        return Trigger(self, "immediate")

    @property
    def delayed(self) -> Trigger:
        """This resource, notified once at the end of the run (the default)."""
        return Trigger(self, "delayed")

    def validate(self) -> None:
        """Check the type's own keywords; raise DeclarationError naming what is valid."""

    def scheduled_action(self, is_notification_target: bool) -> str:
        """The action of the resource's own turn in the run."""
        return self.action

    def notify_action(self) -> str:
        """The action a notification runs."""
        return self.on_notify or self.action

    # -- the three steps ------------------------------------------------------
    def desired(self, ctx: "ConvergeContext", action: str) -> Any:
        """The desired state for `action` (renders templates, resolves paths)."""
        raise NotImplementedError

    def current(self, ctx: "ConvergeContext", desired: Any) -> Any:
        """Read the current state of what `desired` describes."""
        raise NotImplementedError

    @staticmethod
    def change(current: Any, desired: Any) -> Change | NoChange:
        """Pure: what must change to go from `current` to `desired`."""
        raise NotImplementedError

    def apply(self, ctx: "ConvergeContext", change: Any) -> None:
        """Make `change`, and only it."""
        raise NotImplementedError


def _is_class_var(annotation: object) -> bool:
    if isinstance(annotation, str):
        return annotation.startswith(("ClassVar", "typing.ClassVar"))
    return annotation is ClassVar or getattr(annotation, "__origin__", None) is ClassVar


class ResourceRegistry:
    """Resource types by name, filled by the `resource_type` decorator at import.

    `locate` tells which module registers each name; such a module is imported when
    a run first asks for one of its types (or when the registry is walked), so a
    run pays only for the types it declares (`stackops solo` starts faster).
    """

    def __init__(self) -> None:
        self._types: dict[str, type[Resource]] = {}
        self._modules: dict[str, str] = {}

    def locate(self, modules: dict[str, str]) -> None:
        """Name -> the module whose import registers it."""
        self._modules.update(modules)

    def _load(self, name: str) -> None:
        module = self._modules.get(name)
        if module is not None and name not in self._types:
            import importlib

            importlib.import_module(module)
            if name not in self._types:
                raise ValueError(f"resource type {name!r}: {module} does not register it")

    def register(self, name: str) -> Callable[[type[Resource]], type[Resource]]:
        def decorate(cls: type[Resource]) -> type[Resource]:
            if name in self._types:
                raise ValueError(f"resource type {name!r} is registered twice")
            cls.type_name = name
            self._types[name] = cls
            return cls

        return decorate

    def get(self, name: str) -> type[Resource]:
        """The type called `name`; InvalidInput listing the valid ones otherwise."""
        cls = self._types.get(name)
        if cls is None and name in self._modules:
            self._load(name)
            cls = self._types.get(name)
        if cls is None:
            import difflib

            close = difflib.get_close_matches(name, self.names(), n=3)
            hint = f" Did you mean: {', '.join(close)}?" if close else ""
            raise InvalidInput(f"no resource type {name!r}.{hint} Valid: {', '.join(self.names())}")
        return cls

    def names(self) -> list[str]:
        return sorted(self._types.keys() | self._modules.keys())

    def module_of(self, name: str) -> str | None:
        """The module `locate` names for `name` (None for a type registered directly)."""
        return self._modules.get(name)

    def __iter__(self) -> Iterator[type[Resource]]:
        for name in self._modules:
            self._load(name)
        return iter(self._types.values())


RESOURCE_TYPES = ResourceRegistry()
resource_type = RESOURCE_TYPES.register

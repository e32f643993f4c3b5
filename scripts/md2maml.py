#!/usr/bin/env python3
"""Derive Castra's PowerShell help from the platyPS markdown in docs/.

    python3 scripts/md2maml.py            # writes en-US/Castra.dll-Help.xml and en-US/about_Castra.help.txt
    python3 scripts/md2maml.py --check    # exits 1 if those files are not what the markdown gives

This stands in for platyPS 0.14's `New-ExternalHelp ./docs -OutputPath ./en-US` where PowerShell is not
available, and follows its rules so that real platyPS produces the same documents from the same markdown:

* cmdlet pages (docs/*-*.md, not about_*) are grouped by their `external help file:` front matter into one MAML
  file each (ModelTransformerVersion2 + MamlRenderer);
* about topics (docs/*.md whose second heading starts with "about") become en-US/<name>.help.txt (TextRenderer).

Only the markdown subset platyPS turns into MAML without surprises is accepted: one paragraph per line of text,
blank lines between paragraphs, code only in examples (and in the about topic), no emphasis and no inline links
(platyPS would rewrite them). The script stops with an error pointing at the offending line otherwise, and it
checks every page against the cmdlet sources: each [Parameter] property must be documented with the right type,
parameter sets, Mandatory, Position, pipeline input, aliases and wildcard support, plus -WhatIf/-Confirm when the
cmdlet has SupportsShouldProcess.
"""

from __future__ import annotations

import argparse
import pathlib
import re
import sys
from dataclasses import dataclass, field

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
OUT = ROOT / "en-US"
SOURCES = ROOT / "src" / "Castra.PowerShell"

ALL_SETS = "(All)"
KNOWN_YAML_KEYS = {
    "type", "parameter sets", "aliases", "accepted values", "required", "position", "default value",
    "accept pipeline input", "accept wildcard characters", "applicable",
}
SECTIONS = ("SYNOPSIS", "SYNTAX", "DESCRIPTION", "EXAMPLES", "PARAMETERS", "INPUTS", "OUTPUTS", "NOTES", "RELATED LINKS")
COMMON_PARAMETERS = "CommonParameters"

NS_MSH = "http://msh"
NS = {
    "maml": "http://schemas.microsoft.com/maml/2004/10",
    "command": "http://schemas.microsoft.com/maml/dev/command/2004/10",
    "dev": "http://schemas.microsoft.com/maml/dev/2004/10",
    "MSHelp": "http://msdn.microsoft.com/mshelp",
}


class DocError(Exception):
    pass


# ---------------------------------------------------------------------------------------------------------------
# Markdown: front matter, then a flat list of nodes (heading, code, text = consecutive paragraphs).
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Node:
    kind: str  # "heading" | "code" | "text"
    line: int
    level: int = 0
    text: str = ""
    lang: str = ""
    paragraphs: list[list[str]] = field(default_factory=list)  # for "text": lines of each paragraph


def read_markdown(path: pathlib.Path) -> tuple[dict[str, str], list[Node]]:
    raw = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    raw = raw.replace("\u2013", "-")  # platyPS' PrepareDocumentString does the same
    lines = raw.split("\n")
    meta: dict[str, str] = {}
    i = 0
    if lines and lines[0] == "---":
        end = lines.index("---", 1)
        for entry in lines[1:end]:
            if entry.strip():
                key, _, value = entry.partition(":")
                meta[key.strip()] = value.strip()
        i = end + 1

    nodes: list[Node] = []
    paragraph: list[str] = []

    def flush_paragraph() -> None:
        if paragraph:
            if nodes and nodes[-1].kind == "text":
                nodes[-1].paragraphs.append(list(paragraph))
            else:
                nodes.append(Node("text", line=start_of_paragraph, paragraphs=[list(paragraph)]))
            paragraph.clear()

    start_of_paragraph = 0
    while i < len(lines):
        line = lines[i]
        fence = re.match(r"^```(\w*)\s*$", line)
        heading = re.match(r"^(#+)[ ]*(.+?)[ ]*#*$", line)
        if fence:
            flush_paragraph()
            body: list[str] = []
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                body.append(lines[j])
                j += 1
            if j == len(lines):
                raise DocError(f"{path.name}:{i + 1}: unterminated code block")
            nodes.append(Node("code", line=i + 1, text="\n".join(body), lang=fence.group(1)))
            i = j + 1
            continue
        if heading:
            flush_paragraph()
            nodes.append(Node("heading", line=i + 1, level=len(heading.group(1)), text=heading.group(2)))
        elif not line.strip():
            flush_paragraph()
        else:
            if not paragraph:
                start_of_paragraph = i + 1
            paragraph.append(line)
        i += 1
    flush_paragraph()
    return meta, nodes


def lint_paragraph(path: pathlib.Path, node: Node, allow_links: bool = False) -> None:
    """Rejects what platyPS' markdown parser would silently rewrite, so the XML stays a faithful copy."""
    for offset, paragraph in enumerate(node.paragraphs):
        for text in paragraph:
            where = f"{path.name} (paragraph near line {node.line + offset}): {text[:60]!r}"
            if text.endswith("  "):
                raise DocError(f"{where}: trailing double space (a hard line break)")
            if text.count("*") >= 2:
                raise DocError(f"{where}: two '*' on one line become emphasis in platyPS")
            if "](" in text and not allow_links:
                raise DocError(f"{where}: inline links are rewritten by platyPS; name the page instead")
            if re.fullmatch(r"[ ]*(==+|--+)[ ]*", text):
                raise DocError(f"{where}: a line of '=' or '-' turns the line above into a heading")


def paragraph_texts(node: Node | None) -> list[str]:
    """One string per paragraph; the lines of a paragraph are joined by a space (a soft line break).

    A section that is present but empty still gives one (empty) paragraph, as platyPS renders "" as one maml:para.
    """
    if node is None:
        return [""]
    return [" ".join(line.strip() for line in paragraph) for paragraph in node.paragraphs]


# ---------------------------------------------------------------------------------------------------------------
# Cmdlet model (ModelTransformerVersion2).
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Param:
    name: str
    description: list[str]
    type: str = ""
    sets: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    required: bool = False
    position: str = "named"
    default: str | None = None
    pipeline: str = "false"
    globbing: bool = False

    @property
    def is_switch(self) -> bool:
        return self.type.lower() in ("switch", "switchparameter", "system.management.automation.switchparameter")


@dataclass
class Example:
    title: str
    code: list[str]
    remarks: list[str]


@dataclass
class Command:
    name: str
    path: pathlib.Path
    meta: dict[str, str]
    synopsis: list[str] = field(default_factory=list)
    description: list[str] = field(default_factory=list)
    syntax_sets: list[str] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)
    parameters: list[Param] = field(default_factory=list)  # first yaml block of each parameter
    param_sets: list[tuple[str, dict[str, Param]]] = field(default_factory=list)  # every yaml block, per set
    common_parameters: bool = False
    inputs: list[tuple[str, list[str]]] = field(default_factory=list)
    outputs: list[tuple[str, list[str]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)


def parse_yaml(path: pathlib.Path, node: Node) -> dict[str, str | None]:
    result: dict[str, str | None] = {}
    for line in node.text.split("\n"):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise DocError(f"{path.name}:{node.line}: invalid yaml line {line!r}")
        key = key.strip()
        if key.lower() not in KNOWN_YAML_KEYS:
            raise DocError(f"{path.name}:{node.line}: unknown yaml key {key!r}")
        value = value.strip()
        result[key.lower()] = value or None
    return result


def split_list(value: str | None) -> list[str]:
    return [] if value is None else [part.strip() for part in value.split(",")]


def parse_command(path: pathlib.Path) -> Command:
    meta, nodes = read_markdown(path)
    if not nodes or nodes[0].kind != "heading" or nodes[0].level != 1:
        raise DocError(f"{path.name}: the first heading must be '# <command name>'")
    command = Command(nodes[0].text, path, meta)
    pos = 1

    def peek() -> Node | None:
        return nodes[pos] if pos < len(nodes) else None

    def take(kind: str) -> Node | None:
        nonlocal pos
        node = peek()
        if node is not None and node.kind == kind:
            pos += 1
            return node
        return None

    def take_text(allow_links: bool = False) -> Node | None:
        node = take("text")
        if node is not None:
            lint_paragraph(path, node, allow_links)
            for offset, paragraph in enumerate(node.paragraphs):
                if len(paragraph) > 1:
                    # platyPS 0.14 versions differ in how they join soft-wrapped lines; one line is unambiguous.
                    raise DocError(f"{path.name} (near line {node.line + offset}): write each paragraph on one line")
        return node

    while pos < len(nodes):
        heading = take("heading")
        if heading is None or heading.level != 2:
            node = nodes[pos]
            raise DocError(f"{path.name}:{node.line}: expected a '## SECTION' heading")
        section = heading.text.upper()
        if section not in SECTIONS:
            raise DocError(f"{path.name}:{heading.line}: unexpected section {heading.text!r}")
        if section in ("SYNOPSIS", "DESCRIPTION", "NOTES"):
            texts = paragraph_texts(take_text())
            if peek() is not None and peek().kind == "code":
                raise DocError(f"{path.name}:{peek().line}: platyPS accepts no code block in {section}")
            setattr(command, section.lower(), texts)
        elif section == "SYNTAX":
            while (node := peek()) is not None and not (node.kind == "heading" and node.level <= 2):
                if node.kind == "heading" and node.level == 3:
                    command.syntax_sets.append(re.sub(r" \(Default\)$", "", node.text))
                elif node.kind != "code":
                    raise DocError(f"{path.name}:{node.line}: SYNTAX holds '### Set' headings and code blocks only")
                pos += 1
        elif section == "EXAMPLES":
            while (node := peek()) is not None and node.kind == "heading" and node.level == 3:
                pos += 1
                if take("text") is not None:
                    raise DocError(f"{path.name}:{node.line}: put the explanation after the code; platyPS drops text before it")
                code = []
                while (block := take("code")) is not None:
                    code.append(block.text.rstrip("\n"))
                if not code:
                    raise DocError(f"{path.name}:{node.line}: example without code")
                command.examples.append(Example(node.text, code, paragraph_texts(take_text())))
        elif section == "PARAMETERS":
            while (node := peek()) is not None and node.kind == "heading" and node.level == 3:
                pos += 1
                name = node.text[1:] if node.text.startswith("-") else node.text
                description_node = take_text(allow_links=name == COMMON_PARAMETERS)
                if name.lower() == COMMON_PARAMETERS.lower():
                    command.common_parameters = True
                    continue
                description = paragraph_texts(description_node)
                blocks = []
                while (block := take("code")) is not None:
                    if block.lang.lower() != "yaml":
                        raise DocError(f"{path.name}:{block.line}: only yaml code blocks are expected under -{name}")
                    blocks.append(block)
                if not blocks:
                    raise DocError(f"{path.name}:{node.line}: -{name} has no yaml block")
                by_set: dict[str, Param] = {}
                first = None
                for block in blocks:
                    yaml = parse_yaml(path, block)
                    param = Param(
                        name=name,
                        description=description,
                        type=yaml.get("type") or "",
                        sets=split_list(yaml.get("parameter sets")) if "parameter sets" in yaml else [ALL_SETS],
                        aliases=split_list(yaml.get("aliases")),
                        accepted=split_list(yaml.get("accepted values")),
                        required=(yaml.get("required") or "").lower() == "true",
                        position=yaml.get("position") or "named",
                        default=yaml.get("default value"),
                        pipeline=yaml.get("accept pipeline input") or "false",
                        globbing=(yaml.get("accept wildcard characters") or "").lower() == "true",
                    )
                    first = first or param
                    for set_name in param.sets:
                        if set_name:
                            by_set[set_name] = param
                command.parameters.append(first)
                command.param_sets.append((name, by_set))
        elif section in ("INPUTS", "OUTPUTS"):
            entries = command.inputs if section == "INPUTS" else command.outputs
            while (node := peek()) is not None and node.kind == "heading" and node.level == 3:
                pos += 1
                entries.append((node.text, paragraph_texts(take_text())))
        elif section == "RELATED LINKS":
            node = take_text(allow_links=True)
            for text in paragraph_texts(node):
                links = re.findall(r"\[(.+?)\]\((.*?)\)", text)
                if not links or re.sub(r"\[(.+?)\]\((.*?)\)", "", text).strip():
                    raise DocError(f"{path.name}: RELATED LINKS holds links only, got {text!r}")
                command.links.extend(links)
        if (node := peek()) is not None and not (node.kind == "heading" and node.level <= 2):
            raise DocError(f"{path.name}:{node.line}: unexpected content in {section}")

    online = meta.get("online version", "")
    if online and (not command.links or command.links[0][1] != online):
        command.links.insert(0, ("Online Version:", online))
    return command


def syntax_items(command: Command) -> list[list[Param]]:
    """GatherSyntax/FillUpSyntax: set names in order of first appearance, (All) parameters in every set."""
    set_names: list[str] = []
    for _, by_set in command.param_sets:
        for set_name in by_set:
            if set_name.lower() not in (s.lower() for s in set_names):
                set_names.append(set_name)
    if not set_names:
        return [[]]
    items = []
    for set_name in set_names:
        if set_name == ALL_SETS and len(set_names) > 1:
            continue
        chosen = []
        for _, by_set in command.param_sets:
            param = next((p for s, p in by_set.items() if s.lower() == set_name.lower()), None)
            if param is None and len(by_set) == 1 and ALL_SETS in by_set:
                param = by_set[ALL_SETS]
            if param is not None:
                chosen.append(param)
        # OrderBy(x => x.Position): a stable sort on the position text; digits sort before "Named".
        chosen.sort(key=lambda p: (0, int(p.position)) if p.position.isdigit() else (1, p.position.lower()))
        items.append(chosen)
    return items


# ---------------------------------------------------------------------------------------------------------------
# MAML (MamlRenderer): an XDocument saved with indentation.
# ---------------------------------------------------------------------------------------------------------------

class El:
    def __init__(self, tag: str, *children, attrs: list[tuple[str, str]] | None = None, text: str | None = None):
        self.tag = tag
        self.attrs = attrs or []
        self.children = [c for c in children if c is not None]
        self.text = text

    def render(self, out: list[str], indent: int) -> None:
        pad = "  " * indent
        attrs = "".join(f' {k}="{escape_attr(v)}"' for k, v in self.attrs)
        if self.text is not None:
            out.append(f"{pad}<{self.tag}{attrs}>{escape_text(self.text)}</{self.tag}>")
        elif not self.children:
            out.append(f"{pad}<{self.tag}{attrs} />")
        else:
            out.append(f"{pad}<{self.tag}{attrs}>")
            for child in self.children:
                child.render(out, indent + 1)
            out.append(f"{pad}</{self.tag}>")


def escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attr(text: str) -> str:
    return escape_text(text).replace('"', "&quot;")


def xml_bool(value: bool) -> str:
    return "true" if value else "false"


def paras(texts: list[str]) -> list[El]:
    # GenerateParagraphs: one maml:para per line of the section's text; the paragraphs of a section are its lines.
    return [El("maml:para", text=t) for t in texts]


def pad_title(title: str) -> str:
    if not title.strip() or len(title) >= 62:
        return title
    pad = (64 - len(title) - 2) // 2
    return "-" * pad + " " + title + " " + "-" * pad


def parameter_element(param: Param, in_syntax: bool) -> El:
    maml_type = "SwitchParameter" if param.is_switch else param.type
    if param.is_switch and (not param.default or param.default == "None"):
        default = "False"
    else:
        default = param.default if param.default is not None else "None"
    value_group = None
    if in_syntax and param.accepted:
        value_group = El("command:parameterValueGroup", *[
            El("command:parameterValue", attrs=[("required", "false"), ("command:variableLength", "false")], text=v)
            for v in param.accepted])
    value = None
    if not in_syntax or not param.is_switch:
        value = El("command:parameterValue",
                   attrs=[("required", xml_bool(not param.is_switch)), ("variableLength", "false")], text=maml_type)
    return El(
        "command:parameter",
        El("maml:name", text=param.name),
        El("maml:description", *paras(param.description)),
        value_group,
        value,
        El("dev:type", El("maml:name", text=maml_type), El("maml:uri")),
        El("dev:defaultValue", text=default),
        attrs=[
            ("required", xml_bool(param.required)),
            ("variableLength", "true"),
            ("globbing", xml_bool(param.globbing)),
            ("pipelineInput", param.pipeline),
            ("position", param.position.lower()),
            ("aliases", ", ".join(param.aliases) if param.aliases else "none"),
        ])


def command_element(command: Command) -> El:
    verb = command.name.split("-")[0]
    noun = command.name[min(len(verb) + 1, len(command.name)):]
    links = []
    for text, uri in command.links:
        absolute = re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", uri) is not None
        links.append(El("maml:navigationLink", El("maml:linkText", text=text), El("maml:uri", text=uri if absolute else "")))
    return El(
        "command:command",
        El("command:details",
           El("command:name", text=command.name),
           El("command:verb", text=verb),
           El("command:noun", text=noun),
           El("maml:description", *paras(command.synopsis))),
        El("maml:description", *paras(command.description)),
        El("command:syntax", *[
            El("command:syntaxItem", El("maml:name", text=command.name), *[parameter_element(p, True) for p in item])
            for item in syntax_items(command)]),
        El("command:parameters", *[parameter_element(p, False) for p in command.parameters]),
        El("command:inputTypes", *[
            El("command:inputType", El("dev:type", El("maml:name", text=t)), El("maml:description", *paras(d)))
            for t, d in command.inputs]),
        El("command:returnValues", *[
            El("command:returnValue", El("dev:type", El("maml:name", text=t)), El("maml:description", *paras(d)))
            for t, d in command.outputs]),
        El("maml:alertSet", El("maml:alert", *paras(command.notes))),
        El("command:examples", *[
            El("command:example",
               El("maml:title", text=pad_title(e.title)),
               El("dev:code", text="\n\n".join(e.code)),
               El("dev:remarks", *paras(e.remarks)))
            for e in command.examples]),
        El("command:relatedLinks", *links),
        attrs=[(f"xmlns:{prefix}", uri) for prefix, uri in NS.items()])


def render_maml(commands: list[Command]) -> str:
    root = El("helpItems", *[command_element(c) for c in commands], attrs=[("schema", "maml"), ("xmlns", NS_MSH)])
    out = ['<?xml version="1.0" encoding="utf-8"?>']
    root.render(out, 0)
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------------------------
# About topics (TextRenderer, 80 columns).
# ---------------------------------------------------------------------------------------------------------------

INDENT = "    "
MAX_WIDTH = 80


def wrap(text: str) -> list[str]:
    """WrapAndAppendLines: greedy on single spaces, lines of at most MAX_WIDTH - 4 characters after the indent."""
    lines, current = [], ""
    for word in text.split(" "):
        if len(current) + len(word) > MAX_WIDTH - 4:
            lines.append(INDENT + (current[:-1] if current.endswith(" ") else current))
            current = word + " "
        else:
            current += word + " "
    if current and current != " ":
        lines.append(INDENT + current[:-1] if current.endswith(" ") else INDENT + current)
    return lines


def render_about(path: pathlib.Path) -> tuple[str, str]:
    _, nodes = read_markdown(path)
    if len(nodes) < 2 or nodes[0].kind != "heading" or nodes[1].kind != "heading" or not nodes[1].text.lower().startswith("about"):
        raise DocError(f"{path.name}: an about topic starts with '# Title' then '## about_Name'")
    out: list[str] = []
    for index, node in enumerate(nodes):
        if node.kind == "heading":
            if index == 0:
                out.append("TOPIC")
            elif node.level == 1:
                out.append(node.text.upper())
            elif node.level == 2 and index == 1:
                out.extend([INDENT + node.text.lower(), ""])
            elif node.level == 2:
                out.append(node.text)
            else:
                out.append(INDENT + node.text.upper())
        elif node.kind == "text":
            lint_paragraph(path, node)
            for paragraph in node.paragraphs:
                for line in paragraph:  # each source line is its own span: it starts a new output line
                    out.extend(wrap(line) if len(line) > MAX_WIDTH - 4 else [INDENT + line])
                out.append("")
        else:
            out.extend((INDENT + line).rstrip() for line in node.text.split("\n"))
            out.append("")
    name = nodes[1].text if nodes[1].text.lower().startswith("about_") else "about_" + nodes[1].text
    text = "\n".join(line.rstrip() for line in out).rstrip("\n") + "\n"
    return path.stem if path.stem.lower().startswith("about_") else name, text


# ---------------------------------------------------------------------------------------------------------------
# Cross-check against the cmdlet sources.
# ---------------------------------------------------------------------------------------------------------------

TYPE_NAMES = {"string": "String", "double": "Double", "int": "Int32", "bool": "Boolean", "long": "Int64"}


def source_parameters(cs_files: list[pathlib.Path]) -> dict[str, dict]:
    """Parses [Cmdlet] classes and their [Parameter] properties (including CastraCmdletBase's)."""
    texts = {p: p.read_text(encoding="utf-8") for p in cs_files}
    classes: dict[str, tuple[str, str | None, str]] = {}  # class -> (body, base, file text)
    for text in texts.values():
        for m in re.finditer(r"class (\w+)\s*:\s*(\w+)", text):
            classes[m.group(1)] = (text, m.group(2), text)
    constants: dict[str, str] = {}
    for text in texts.values():
        for m in re.finditer(r'const string (\w+) = "([^"]*)"', text):
            constants[m.group(1)] = m.group(2)

    def props(text: str) -> list[dict]:
        found = []
        for m in re.finditer(r"((?:\s*\[[^\]]*\]\s*)+)\s*public ([\w\[\]?.]+) (\w+) \{ get; set; \}", text):
            attrs, ctype, name = m.group(1), m.group(2), m.group(3)
            blocks = re.findall(r"\[Parameter(?:\(([^)]*)\))?\]", attrs)
            if not blocks:
                continue
            base = ctype.rstrip("?")
            array = base.endswith("[]")
            base = base[:-2] if array else base
            ps_type = TYPE_NAMES.get(base, base) + ("[]" if array else "")
            sets = []
            for args in blocks:
                args = args or ""
                set_match = re.search(r"ParameterSetName = (\w+)", args)
                sets.append({
                    "set": constants.get(set_match.group(1), set_match.group(1)) if set_match else ALL_SETS,
                    "mandatory": "Mandatory = true" in args,
                    "position": (re.search(r"Position = (\d+)", args) or [None, "named"])[1],
                    "by_value": "ValueFromPipeline = true" in args,
                    "by_name": "ValueFromPipelineByPropertyName = true" in args,
                })
            aliases = re.search(r'\[Alias\(([^)]*)\)\]', attrs)
            found.append({
                "name": name,
                "type": ps_type,
                "sets": sets,
                "aliases": re.findall(r'"([^"]*)"', aliases.group(1)) if aliases else [],
                "wildcards": "[SupportsWildcards]" in attrs,
            })
        return found

    cmdlets: dict[str, dict] = {}
    for text in texts.values():
        for m in re.finditer(r"\[Cmdlet\(Verbs\w+\.(\w+), \"(\w+)\"([^\]]*)\].*?public sealed class (\w+)\s*:\s*(\w+)", text, re.S):
            verb, noun, options, cls, base = m.groups()
            parameters = props(text)
            while base in classes:
                base_text, next_base, _ = classes[base]
                body = re.search(r"class " + base + r"\b.*", base_text, re.S).group(0)
                parameters += props(body)
                base = next_base
            cmdlets[f"{verb}-{noun}"] = {
                "parameters": parameters,
                "should_process": "SupportsShouldProcess = true" in options,
            }
    return cmdlets


def pipeline_text(by_value: bool, by_name: bool) -> str:
    if by_value and by_name:
        return "True (ByPropertyName, ByValue)"
    if by_value:
        return "True (ByValue)"
    if by_name:
        return "True (ByPropertyName)"
    return "False"


def check_against_source(commands: list[Command]) -> list[str]:
    cs_files = sorted(SOURCES.rglob("*.cs"))
    cs_files = [p for p in cs_files if "/obj/" not in p.as_posix() and "/bin/" not in p.as_posix()]
    cmdlets = source_parameters(cs_files)
    problems = []
    documented = {c.name: c for c in commands}
    for name in sorted(set(cmdlets) - set(documented)):
        problems.append(f"{name}: exported cmdlet without a docs/{name}.md page")
    for name, cmdlet in cmdlets.items():
        command = documented.get(name)
        if command is None:
            continue
        expected = {p["name"]: p for p in cmdlet["parameters"]}
        if cmdlet["should_process"]:
            for extra, alias in (("WhatIf", "wi"), ("Confirm", "cf")):
                expected[extra] = {"name": extra, "type": "SwitchParameter", "aliases": [alias], "wildcards": False,
                                   "sets": [{"set": ALL_SETS, "mandatory": False, "position": "named", "by_value": False, "by_name": False}]}
        docs = {n: by_set for n, by_set in command.param_sets}
        for missing in sorted(set(expected) - set(docs)):
            problems.append(f"{name}: -{missing} is not documented")
        for extra in sorted(set(docs) - set(expected)):
            problems.append(f"{name}: -{extra} is documented but is not a parameter")
        for pname in sorted(set(expected) & set(docs)):
            src, by_set = expected[pname], docs[pname]
            label = f"{name} -{pname}"
            for doc in by_set.values():
                if doc.type != src["type"] and not (doc.is_switch and src["type"] == "SwitchParameter"):
                    problems.append(f"{label}: type {doc.type} in the docs, {src['type']} in the source")
                if sorted(doc.aliases) != sorted(src["aliases"]):
                    problems.append(f"{label}: aliases {doc.aliases} in the docs, {src['aliases']} in the source")
                if doc.globbing != src["wildcards"]:
                    problems.append(f"{label}: wildcard support differs from [SupportsWildcards]")
            src_sets = {s["set"]: s for s in src["sets"]}
            if set(src_sets) != set(by_set):
                problems.append(f"{label}: parameter sets {sorted(by_set)} in the docs, {sorted(src_sets)} in the source")
                continue
            for set_name, s in src_sets.items():
                doc = by_set[set_name]
                if doc.required != s["mandatory"]:
                    problems.append(f"{label} ({set_name}): Required {doc.required} in the docs, Mandatory {s['mandatory']} in the source")
                if doc.position.lower() != str(s["position"]).lower():
                    problems.append(f"{label} ({set_name}): Position {doc.position} in the docs, {s['position']} in the source")
                if doc.pipeline != pipeline_text(s["by_value"], s["by_name"]):
                    problems.append(f"{label} ({set_name}): pipeline input {doc.pipeline!r}, expected {pipeline_text(s['by_value'], s['by_name'])!r}")
        if not any(command.synopsis):
            problems.append(f"{name}: empty synopsis")
        if len(command.examples) < 2:
            problems.append(f"{name}: fewer than two examples")
        real_sets = [s for s in command.syntax_sets]
        if real_sets:
            doc_sets = {s for _, by_set in command.param_sets for s in by_set} - {ALL_SETS}
            if set(real_sets) != doc_sets:
                problems.append(f"{name}: SYNTAX lists sets {real_sets}, PARAMETERS use {sorted(doc_sets)}")
    return problems


# ---------------------------------------------------------------------------------------------------------------

def build() -> dict[pathlib.Path, str]:
    pages = sorted(DOCS.glob("*-*.md"), key=lambda p: p.name.lower())
    pages = [p for p in pages if not p.stem.lower().startswith("about_")]
    for page in [p for p in pages if "external help file" not in read_markdown(p)[0]]:
        # New-ExternalHelp ./docs takes every *-*.md as a cmdlet page and stops at the first one that is not.
        print(f"md2maml: note: skipping {page.relative_to(ROOT)} (no 'external help file' front matter); "
              f"platyPS' New-ExternalHelp ./docs would fail on it, so pass it the cmdlet pages: "
              f"New-ExternalHelp ./docs/*-Castra*.md, ./docs/about_*.md -OutputPath ./en-US", file=sys.stderr)
        pages.remove(page)
    groups: dict[str, list[Command]] = {}
    commands = []
    for page in pages:
        command = parse_command(page)
        commands.append(command)
        target = command.meta.get("external help file") or "Castra.dll-Help.xml"
        groups.setdefault(target, []).append(command)
    problems = check_against_source(commands)
    if problems:
        raise DocError("the markdown does not match the cmdlets:\n  " + "\n  ".join(problems))
    results = {OUT / target: render_maml(group) for target, group in groups.items()}
    for page in sorted(DOCS.glob("*.md"), key=lambda p: p.name.lower()):
        if page in pages:
            continue
        _, nodes = read_markdown(page)
        if len(nodes) > 1 and nodes[1].kind == "heading" and nodes[1].text[:5].upper() == "ABOUT":
            name, text = render_about(page)
            results[OUT / f"{name}.help.txt"] = text
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the generated files are out of date")
    args = parser.parse_args()
    try:
        results = build()
    except DocError as error:
        print(f"md2maml: {error}", file=sys.stderr)
        return 2
    stale = []
    for path, content in results.items():
        data = "\ufeff" + content  # New-ExternalHelp writes UTF-8 with a byte order mark
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == data:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(data, encoding="utf-8", newline="\n")
            print(f"wrote {path.relative_to(ROOT)}")
    if args.check and stale:
        print("md2maml: out of date: " + ", ".join(str(p.relative_to(ROOT)) for p in stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

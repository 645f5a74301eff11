"""PDFs of reports in batches: few wkhtmltopdf processes per batch."""

import functools
import io
import logging
import os
import subprocess
import tempfile

import psycopg2
from lxml import html as lxml_html

from odoo.addons.base.models.ir_actions_report import _get_wkhtmltopdf_bin
from odoo.http import request
from odoo.tools.pdf import PdfFileReader, PdfFileWriter

from .side_transaction import SideTransactionBlocked, side_transaction

_logger = logging.getLogger(__name__)

PDF_MARKER = "ISPDUNNINGRECORD"
ASSET_BUNDLES = ("web.report_assets_common", "web.report_assets_pdf")
# Records per wkhtmltopdf process. Odoo's header and footer files hold the
# header and footer of every record of the process and are loaded again for
# every page, with the report styles, so a process's cost grows faster than
# its records (87 letters: 24-26 s of CPU in one process, 18 s in chunks of
# 20); a process's start costs about as much as one letter.
RECORDS_PER_PROCESS = 20
# wkhtmltopdf processes at a time: each spends part of its time waiting
# (the report's JavaScript delay, the styles from the HTTP server).
PARALLEL_PROCESSES = 2
# Milliseconds wkhtmltopdf waits after loading a chunk before printing it.
# Odoo's ``report.print_delay`` (1,000 by default) gives a report's own
# scripts time to draw (charts); the documents printed in batches here (the
# letter, the handover summary, Odoo's invoice) have none: the layout's
# header and footer script runs on load. A second per process of 20
# records was a quarter of a letter's cost.
JAVASCRIPT_DELAY_MS = 100
# Odoo's header/footer script picks the record's entry by the index in the
# body file's name (web.minimal_layout: ``webpage.split('.', 4)[3]``).
BODY_FILE = "report.body.tmp.{index}.html"


class ReportAssetsUnavailable(Exception):
    """The report styles could not be prepared in a transaction of their own;
    the documents are left to the next delivery."""


def marker_starts(pdf_content, res_ids):
    """The first page of each record in a PDF whose records start on a page
    carrying PDF_MARKER<res_id>, in the order of ``res_ids``; None if a
    marker is missing or out of order."""
    reader = PdfFileReader(io.BytesIO(pdf_content), strict=False)
    starts = {}
    for number, page in enumerate(reader.pages):
        text = (page.extract_text() or "").replace(" ", "")
        for res_id in res_ids:
            if res_id not in starts and f"{PDF_MARKER}{res_id}" in text:
                starts[res_id] = number
    ordered = [starts.get(res_id) for res_id in res_ids]
    if None in ordered or ordered[0] != 0 or ordered != sorted(set(ordered)):
        return None
    return ordered


def split_pdf_at_pages(pdf_content, res_ids, starts, page_count=None):
    """{res_id: PDF} of a PDF whose record ``res_ids[i]`` starts on page
    ``starts[i]``; {} when the PDF does not have ``page_count`` pages."""
    reader = PdfFileReader(io.BytesIO(pdf_content), strict=False)
    total = len(reader.pages)
    if page_count is not None and total != page_count:
        return {}
    bounds = list(starts) + [total]
    result = {}
    for index, res_id in enumerate(res_ids):
        writer = PdfFileWriter()
        for number in range(bounds[index], bounds[index + 1]):
            writer.addPage(reader.getPage(number))
        buffer = io.BytesIO()
        writer.write(buffer)
        result[res_id] = buffer.getvalue()
    return result


@functools.cache
def wkhtmltopdf_renders_batches():
    """Whether wkhtmltopdf takes several documents in one call. Builds with
    "patched qt" do; Debian's build does not (it fails on a second input), so
    there each document needs a process of its own."""
    try:
        version = subprocess.run(
            ["wkhtmltopdf", "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except OSError:
        return False
    return "patched qt" in version


def ensure_report_assets(env):
    """wkhtmltopdf loads the report CSS from Odoo's HTTP server. Build the
    bundles in a transaction of their own and commit it, so that the server
    never waits for a bundle locked by the caller's (long) transaction.

    The side transaction waits a bounded time for locks: when the caller's
    transaction holds one it needs (e.g. it renamed the company), it gives up
    and raises :class:`ReportAssetsUnavailable` instead of waiting for ever.
    """
    try:
        with side_transaction(env) as side_env:
            qweb = side_env["ir.qweb"]
            for bundle in ASSET_BUNDLES:
                qweb._get_asset_bundle(bundle, css=True, js=False).css()
                qweb._get_asset_bundle(bundle, css=False, js=True).js()
    except SideTransactionBlocked as error:
        _logger.warning("Report styles not prepared, lock wait ran out: %s", error)
        raise ReportAssetsUnavailable(str(error)) from error
    except psycopg2.Error as error:
        # E.g. the bundle refers to data the caller has not committed yet.
        _logger.warning("Report styles not prepared: %s", error)
        raise ReportAssetsUnavailable(str(error)) from error


def render_pdfs(env, report_ref, records):
    """{record id: PDF bytes} for many records in as few wkhtmltopdf
    processes as the installed build allows."""
    if not records:
        return {}
    records.env["isp.dunning.notice"]._ensure_report_assets()
    reports = env["ir.actions.report"].with_context(report_pdf_no_attachment=True)
    pdfs = {}
    if wkhtmltopdf_renders_batches():
        if len(records) > 1:
            pdfs = _render_in_chunks(env, report_ref, records)
    elif len(records) > 1:
        pdfs = _render_as_one_document(env, report_ref, records)
    for record in records.filtered(lambda r: r.id not in pdfs):
        streams = reports._render_qweb_pdf_prepare_streams(report_ref, {}, res_ids=record.ids)
        pdfs[record.id] = streams[record.id]["stream"].getvalue()
    return pdfs


def _joined_document(bodies, html_ids, with_markers):
    """One HTML document of the records' bodies, each on a new page and
    headed by a strip of 1px: with ``with_markers`` it carries
    PDF_MARKER<res_id> in tiny white text, without it is empty. Both
    versions lay out alike, so their pages break at the same places."""
    document = None
    for body, res_id in zip(bodies, html_ids, strict=True):
        tree = lxml_html.fromstring(body)
        content = tree.find("body")
        strip = lxml_html.fromstring(
            '<div style="height:1px;overflow:hidden;font-size:1px;line-height:1px;color:#fff">'
            "</div>"
        )
        if with_markers:
            strip.text = f"{PDF_MARKER}{res_id}"
        content.insert(0, strip)
        if document is None:
            document = tree
            continue
        page_break = lxml_html.fromstring('<div style="page-break-before: always;"></div>')
        target = document.find("body")
        target.append(page_break)
        for child in list(content):
            target.append(child)
    return lxml_html.tostring(document, encoding="unicode")


def _render_as_one_document(env, report_ref, records):
    """Two wkhtmltopdf processes for many records on builds that take a
    single document: the records' pages joined with page breaks are
    rendered once with a marker per record, to learn on which page each
    record starts, and once without markers; the second PDF is split at
    those pages, so no marker text stays in a record's PDF. Returns {} when
    the split cannot be trusted (the caller then renders record by
    record)."""
    reports = env["ir.actions.report"]
    report = reports._get_report(report_ref)
    html = reports._render_qweb_html(report_ref, records.ids)[0]
    bodies, html_ids, header, footer, paper_args = report._prepare_html(
        html, report_model=report.model
    )
    if len(bodies) != len(records) or set(html_ids) != set(records.ids):
        return {}

    def run(with_markers):
        return reports._run_wkhtmltopdf(
            [_joined_document(bodies, html_ids, with_markers)],
            report_ref=report_ref,
            header=header,
            footer=footer,
            specific_paperformat_args=paper_args,
        )

    marked = run(with_markers=True)
    starts = marker_starts(marked, html_ids)
    if starts is None:
        return {}
    page_count = len(PdfFileReader(io.BytesIO(marked), strict=False).pages)
    return split_pdf_at_pages(run(with_markers=False), html_ids, starts, page_count)


def outline_starts(pdf_content, count):
    """The first page of each of ``count`` records in a PDF of wkhtmltopdf,
    read from the top-level outline (one heading per record, as Odoo splits
    its batches); None if the outline does not tell."""
    reader = PdfFileReader(io.BytesIO(pdf_content), strict=False)
    if count == 1:
        return [0]
    if len(reader.pages) == count:
        return list(range(count))
    root = reader.trailer["/Root"]
    if "/Outlines" not in root or "/First" not in root["/Outlines"] or "/Dests" not in root:
        return None
    starts = []
    node = root["/Outlines"]["/First"]
    while True:
        # wkhtmltopdf names the page by its number
        starts.append(int(root["/Dests"][node["/Dest"]][0]))
        if "/Next" not in node:
            break
        node = node["/Next"]
    starts = sorted(set(starts))
    if len(starts) != count or starts[0] != 0:
        return None
    return starts


def _entries_of(document, element_id, start, stop):
    """Odoo's header or footer document of a batch, keeping only the
    entries of the records ``start`` to ``stop`` (its script picks the
    entry by the record's index within the process)."""
    tree = lxml_html.document_fromstring(document)
    container = tree.get_element_by_id(element_id, None)
    if container is None:
        return document
    for index, child in enumerate(list(container)):
        if not start <= index < stop:
            container.remove(child)
    return lxml_html.tostring(tree, encoding="unicode", doctype="<!DOCTYPE html>")


def _render_in_chunks(env, report_ref, records):
    """{record id: PDF} for a batch: the HTML is rendered once, then
    wkhtmltopdf runs on chunks of RECORDS_PER_PROCESS records, each with the
    headers and footers of its own records only, PARALLEL_PROCESSES at a
    time. The PDF of a chunk is split at the outline of each record's
    heading; the records of a chunk that cannot be split are left out (the
    caller renders them one by one)."""
    reports = env["ir.actions.report"].with_context(debug=False)
    report = reports._get_report(report_ref)
    html = reports._render_qweb_html(
        report_ref, records.ids, data={"report_type": "pdf", "debug": False}
    )[0]
    bodies, html_ids, header, footer, paper_args = report.with_context(debug=False)._prepare_html(
        html, report_model=report.model
    )
    if len(bodies) != len(records) or html_ids != records.ids:
        return {}
    chunks = [
        (start, min(start + RECORDS_PER_PROCESS, len(bodies)))
        for start in range(0, len(bodies), RECORDS_PER_PROCESS)
    ]
    documents = [
        (
            bodies[start:stop],
            header and _entries_of(header, "minimal_layout_report_headers", start, stop),
            footer and _entries_of(footer, "minimal_layout_report_footers", start, stop),
        )
        for start, stop in chunks
    ]
    if request and request.db:
        # Printed from the web client: Odoo's runner passes the user's
        # session to wkhtmltopdf; one process after the other.
        contents = [
            reports._run_wkhtmltopdf(
                chunk_bodies,
                report_ref=report_ref,
                header=chunk_header,
                footer=chunk_footer,
                specific_paperformat_args=paper_args,
            )
            for chunk_bodies, chunk_header, chunk_footer in documents
        ]
    else:
        args = reports._build_wkhtmltopdf_args(
            report.get_paperformat(), False, specific_paperformat_args=paper_args
        )
        contents = _run_parallel(_with_javascript_delay(args, JAVASCRIPT_DELAY_MS), documents)
    pdfs = {}
    for (start, stop), content in zip(chunks, contents, strict=True):
        ids = html_ids[start:stop]
        starts = content and outline_starts(content, len(ids))
        if starts is None or not content:
            _logger.warning("PDF of records %s not split, rendering them one by one", ids)
            continue
        pdfs.update(split_pdf_at_pages(content, ids, starts))
    return pdfs


def _with_javascript_delay(args, delay_ms):
    """wkhtmltopdf's arguments with ``--javascript-delay`` set to ``delay_ms``
    when it is longer."""
    args = list(args)
    if "--javascript-delay" in args:
        index = args.index("--javascript-delay") + 1
        args[index] = str(min(int(args[index]), delay_ms))
    else:
        args += ["--javascript-delay", str(delay_ms)]
    return args


def _run_parallel(args, documents):
    """The PDF bytes (b"" on failure) of each (bodies, header, footer),
    rendered by wkhtmltopdf processes PARALLEL_PROCESSES at a time."""
    binary = _get_wkhtmltopdf_bin()
    results = [b""] * len(documents)
    with tempfile.TemporaryDirectory(prefix="isp_dunning_pdf_") as folder:
        commands = []
        for number, (bodies, header, footer) in enumerate(documents):
            # No dot in the folder's name: the body's index is read from the
            # file name split at dots.
            chunk_folder = os.path.join(folder, f"chunk{number}")
            os.mkdir(chunk_folder)
            command = [binary, *args]
            for name, content in (("header-html", header), ("footer-html", footer)):
                if content:
                    path = os.path.join(chunk_folder, f"report_{name}.html")
                    with open(path, "w", encoding="utf-8") as handle:
                        handle.write(content)
                    command += [f"--{name}", path]
            for index, body in enumerate(bodies):
                path = os.path.join(chunk_folder, BODY_FILE.format(index=index))
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(body)
                command.append(path)
            command.append(os.path.join(chunk_folder, "out.pdf"))
            commands.append((number, command, chunk_folder))
        running = []
        while commands or running:
            while commands and len(running) < PARALLEL_PROCESSES:
                number, command, chunk_folder = commands.pop(0)
                with open(os.path.join(chunk_folder, "err.txt"), "wb") as err:
                    process = subprocess.Popen(  # noqa: S603 - Odoo's wkhtmltopdf, no shell
                        command, stdout=subprocess.DEVNULL, stderr=err
                    )
                running.append((number, command, chunk_folder, process))
            number, command, chunk_folder, process = running.pop(0)
            process.wait()
            if process.returncode not in (0, 1):
                with open(
                    os.path.join(chunk_folder, "err.txt"), encoding="utf-8", errors="replace"
                ) as err:
                    message = err.read()[-1000:]
                _logger.warning("wkhtmltopdf failed (%s): %s", process.returncode, message)
                continue
            with open(command[-1], "rb") as handle:
                results[number] = handle.read()
    return results

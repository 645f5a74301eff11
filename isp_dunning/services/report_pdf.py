"""PDFs of reports in batches: one wkhtmltopdf process per call."""

import functools
import io
import logging
import subprocess

import psycopg2
from lxml import html as lxml_html

from odoo.tools.pdf import PdfFileReader, PdfFileWriter

from .side_transaction import SideTransactionBlocked, side_transaction

_logger = logging.getLogger(__name__)

PDF_MARKER = "ISPDUNNINGRECORD"
ASSET_BUNDLES = ("web.report_assets_common", "web.report_assets_pdf")


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
        # Odoo splits the batch at the outline of each record's top heading.
        streams = reports._render_qweb_pdf_prepare_streams(report_ref, {}, res_ids=records.ids)
        pdfs = {
            res_id: data["stream"].getvalue()
            for res_id, data in streams.items()
            if res_id in records.ids and data.get("stream")
        }
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

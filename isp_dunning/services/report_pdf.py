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


def split_pdf_at_markers(pdf_content, res_ids):
    """{res_id: PDF} from one PDF whose records start on a page carrying
    PDF_MARKER<res_id>; {} if a marker is missing or out of order."""
    reader = PdfFileReader(io.BytesIO(pdf_content), strict=False)
    starts = {}
    for number, page in enumerate(reader.pages):
        text = page.extract_text() or ""
        for res_id in res_ids:
            if res_id not in starts and f"{PDF_MARKER}{res_id}" in text.replace(" ", ""):
                starts[res_id] = number
    if len(starts) != len(res_ids) or sorted(starts.values()) != [starts[i] for i in res_ids]:
        return {}
    bounds = [starts[i] for i in res_ids] + [len(reader.pages)]
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
    if wkhtmltopdf_renders_batches():
        streams = reports._render_qweb_pdf_prepare_streams(report_ref, {}, res_ids=records.ids)
        return {res_id: data["stream"].getvalue() for res_id, data in streams.items()}
    if len(records) > 1:
        pdfs = _render_as_one_document(env, report_ref, records)
        if pdfs:
            return pdfs
    pdfs = {}
    for record in records:
        streams = reports._render_qweb_pdf_prepare_streams(report_ref, {}, res_ids=record.ids)
        pdfs.update({res_id: data["stream"].getvalue() for res_id, data in streams.items()})
    return pdfs


def _render_as_one_document(env, report_ref, records):
    """One wkhtmltopdf process for many records on builds that take a single
    document: the records' pages are joined with page breaks and a marker per
    record, and the PDF is split again where the markers are. Returns {} when
    the split cannot be trusted (the caller then renders record by record)."""
    reports = env["ir.actions.report"]
    report = reports._get_report(report_ref)
    html = reports._render_qweb_html(report_ref, records.ids)[0]
    bodies, html_ids, header, footer, paper_args = report._prepare_html(
        html, report_model=report.model
    )
    if len(bodies) != len(records) or set(html_ids) != set(records.ids):
        return {}
    document = None
    for body, res_id in zip(bodies, html_ids, strict=True):
        tree = lxml_html.fromstring(body)
        content = tree.find("body")
        marker = lxml_html.fromstring(
            f'<div style="font-size:1px;line-height:1px;color:#fff">{PDF_MARKER}{res_id}</div>'
        )
        content.insert(0, marker)
        if document is None:
            document = tree
            continue
        page_break = lxml_html.fromstring('<div style="page-break-before: always;"></div>')
        target = document.find("body")
        target.append(page_break)
        for child in list(content):
            target.append(child)
    pdf_content = reports._run_wkhtmltopdf(
        [lxml_html.tostring(document, encoding="unicode")],
        report_ref=report_ref,
        header=header,
        footer=footer,
        specific_paperformat_args=paper_args,
    )
    return split_pdf_at_markers(pdf_content, records.ids)

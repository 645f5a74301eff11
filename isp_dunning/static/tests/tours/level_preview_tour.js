/** @odoo-module */

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// An accountant opens a dunning level, edits its HTML template and
// previews the notice for a customer with real figures.
registry.category("web_tour.tours").add("isp_dunning_level_preview", {
    url: "/odoo/action-isp_dunning.action_isp_dunning_level",
    steps: () => [
        {
            content: "Open the first reminder level",
            trigger: ".o_data_row td.o_data_cell:contains('First reminder')",
            run: "click",
        },
        {
            content: "Open the texts",
            trigger: "a.nav-link:contains('Email and Letter Texts')",
            run: "click",
        },
        {
            content: "Edit the HTML body",
            trigger: "div[name='body_html_template'] textarea",
            run: "edit <p>Offener Betrag: {{ notice.amount_open|money(notice.currency_symbol) }}</p>{% for invoice in invoices %}<p>{{ invoice.number }}</p>{% endfor %}",
        },
        ...stepUtils.saveForm(),
        {
            content: "Preview",
            trigger: "button[name='action_preview']",
            run: "click",
        },
        {
            content: "Choose the customer",
            trigger: ".modal div[name='partner_id'] input",
            run: "edit Tour Kunde",
        },
        {
            content: "Pick it",
            trigger: ".o-autocomplete--dropdown-item:contains('Tour Kunde GmbH')",
            run: "click",
        },
        {
            content: "The preview shows the edited text with the real open amount",
            trigger: ".modal .o_preview_html:contains('Offener Betrag:'):contains('1,000.00')",
        },
        {
            content: "and the invoice",
            trigger: ".modal .o_preview_html:contains('INV/')",
        },
        {
            content: "The subject is rendered too",
            trigger: ".modal .o_preview_subject:contains('First reminder from')",
        },
        {
            content: "Close the preview",
            trigger: ".modal .modal-footer button:contains('Close')",
            run: "click",
        },
        {
            content: "Back on the saved level",
            trigger: "body:not(:has(.modal)) .o_form_view .o_form_saved, body:not(:has(.modal)) .o_form_view .o_form_readonly",
        },
    ],
});

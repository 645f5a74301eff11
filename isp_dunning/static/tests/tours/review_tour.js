/** @odoo-module */

import { registry } from "@web/core/registry";

// A dunning manager opens the proposal (Mahnvorschlag), waives the fee of a
// proposed notice with a reason and releases it.
registry.category("web_tour.tours").add("isp_dunning_review", {
    url: "/odoo/action-isp_dunning.action_isp_dunning_proposal",
    steps: () => [
        {
            content: "Open the proposed notice",
            trigger: ".o_data_row td.o_data_cell:contains('Tour Vorschlag GmbH')",
            run: "click",
        },
        {
            content: "Waive the fee",
            trigger: ".o_form_view button[name='action_review_waive_fee']",
            run: "click",
        },
        {
            content: "Give the reason",
            trigger: ".modal div[name='reason'] textarea",
            run: "edit Tour reason: first time late",
        },
        {
            content: "Confirm",
            trigger: ".modal button[name='action_confirm']",
            run: "click",
        },
        {
            content: "The fee is waived",
            trigger: "body:not(:has(.modal)) .o_form_view div[name='review_fee_waived_amount']",
        },
        {
            content: "Release",
            trigger: ".o_form_view button[name='action_release']",
            run: "click",
        },
        {
            content: "The booked notice is listed",
            trigger: ".o_list_view .o_data_row td:contains('Tour Vorschlag GmbH')",
        },
    ],
});

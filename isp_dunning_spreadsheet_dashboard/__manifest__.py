{
    "name": "ISP Dunning: Spreadsheet Dashboard",
    "summary": "A Dunning dashboard in the Finance group of the spreadsheet dashboards: "
    "open amounts by level and age, notices, recovery, collection share, "
    "fees and interest, DSO",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "license": "LGPL-3",
    "author": "isp_dunning",
    "website": "https://github.com/isp-dunning/isp_dunning",
    "depends": ["isp_dunning", "spreadsheet_dashboard"],
    "data": ["data/spreadsheet_dashboard_data.xml"],
    "auto_install": True,
}

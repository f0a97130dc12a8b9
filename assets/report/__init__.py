"""The compliance officer's report (German A4 PDF, HTML, cases.xlsx) per tenant, archived
tamper-evident under NEUROERP_HOME/reports/compliance/, and its weekly job."""

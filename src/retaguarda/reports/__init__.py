"""Reports context: the executive dashboard (KPIs, growth, alerts), reports on screen and as
CSV/XLSX/PDF, and scheduled reports sent by e-mail."""

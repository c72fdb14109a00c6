"""Read models of the audit context: the trail of every event and the tamper-evident seal."""

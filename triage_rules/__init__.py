"""The rule layer as data: taxonomy, rules, routing, policy profiles, working days and templates."""

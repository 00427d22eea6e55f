"""BPMN runtime around SpiffWorkflow: parsing, definitions, runtime, assignment, scripting. No Flask."""

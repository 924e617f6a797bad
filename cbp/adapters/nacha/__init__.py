"""ACH origination as NACHA files: the format, and the processor that files them."""

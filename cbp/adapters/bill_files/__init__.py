"""Bills in bulk: the files a biller (or the bank for it) sends."""

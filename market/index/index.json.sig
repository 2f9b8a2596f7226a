{
  "key": "zoryx-ed25519:80juoiKuQ8/gXQI9N00pOHozZbFk3kcPW8jQfGwTfG8=",
  "signature": "euHjZavUHV7199BphRJ9fIMZULKkCOgOqPLz/DFMnfs9SVHnjfawWJcYNnzoygPc1BhtLLtbHm9Aagpupy09Aw=="
}

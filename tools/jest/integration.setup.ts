// Integration tests talk to real engines: give each test two minutes.
jest.setTimeout(120_000);

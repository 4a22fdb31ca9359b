"""`referral bench …`: national-scale benchmarks, their baselines and their generated data.

Out of the domain packages, which hold only product code. One module per benchmark:

- `matching`: the matching engine against its baselines (one participant, the national batch);
- `matching_service`: the proposals service call with a database (SQLite, PostgreSQL when
  reachable), part (b) of `referral bench matching`, written into the same JSON file;
- `network`: the ecosystem graph of the largest territory and of the nation, and the projection;
- `search`: the partner search index against a plain rapidfuzz scan, with its generated names;

and what they share:

- `baselines`: the slow but obvious implementations, which the property tests use as oracles;
- `synthetic`: the generated participants and opportunities, their distributions read from
  `seeds/demo.toml` and their domains from `seeds/reference/`;
- `synthetic_network`: the generated network snapshots, from the same seeds.

Only `matching_service` needs a database; the others take plain snapshots, like the engines.
"""

//! The exact power-law Cartan orbit (SPEC §3.1, §3.2, §4, §8 tail bounds). Owned by the orbit work.

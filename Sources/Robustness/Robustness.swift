// Robustness module. See the design notes for its responsibilities.

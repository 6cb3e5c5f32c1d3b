// Every test here measures whole processes, kills them or cuts their network: one at a time, never beside another.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

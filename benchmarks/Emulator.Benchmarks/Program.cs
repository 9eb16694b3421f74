using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/Emulator.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Emulator.Benchmarks.InterpreterBenchmarks).Assembly).Run(args);

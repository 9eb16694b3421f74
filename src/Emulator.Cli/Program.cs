using Emulator.Cli;

return CommandDispatcher.Run(args, Console.OpenStandardOutput(), Console.Error, HostConsole.FromProcess());

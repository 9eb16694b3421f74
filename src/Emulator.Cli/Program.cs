using Emulator.Cli;

StartupClock.MarkMain();
return CommandDispatcher.Run(args, Console.OpenStandardOutput(), Console.Error, HostConsole.FromProcess());

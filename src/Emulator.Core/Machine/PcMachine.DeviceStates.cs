using Emulator.Core.Devices;

namespace Emulator.Core.Machine;

/// <summary>
/// Every device's state at once, by name (QEMU's vmstate sections of a migration stream), for
/// a whole-machine snapshot: the snapshot adds RAM, flash contents (<c>CfiFlash.Contents</c> and
/// <c>RestoreContents</c>), the CPU, the scheduler and the virtual clock.
/// </summary>
public sealed partial class PcMachine
{
    /// <summary>Each device's <see cref="IDevice.SaveState"/>, in <see cref="Devices"/> order.</summary>
    public IReadOnlyList<(string Name, DeviceState State)> SaveDeviceStates() =>
        [.. _devices.Select(d => (d.Name, d.SaveState()))];

    /// <summary>
    /// Restores every device from <paramref name="states"/>, which must name exactly this
    /// machine's devices. The interrupt controllers (8259 pair, I/O APIC, local APIC) go last:
    /// the other devices drive their output lines to the recorded levels, which can reach a
    /// controller, and the controllers' own records then settle what they hold. The CPU is told
    /// to look for interrupts.
    /// </summary>
    public void RestoreDeviceStates(IReadOnlyList<(string Name, DeviceState State)> states)
    {
        var byName = new Dictionary<string, DeviceState>();
        foreach (var (name, state) in states)
        {
            if (Device(name) == null)
            {
                throw new ArgumentException($"the saved state has a device this machine lacks: {name}", nameof(states));
            }

            if (!byName.TryAdd(name, state))
            {
                throw new ArgumentException($"the saved state names device {name} twice", nameof(states));
            }
        }

        if (_devices.FirstOrDefault(d => !byName.ContainsKey(d.Name)) is { } missing)
        {
            throw new ArgumentException($"the saved state lacks device {missing.Name}", nameof(states));
        }

        bool IsController(IDevice d) => ReferenceEquals(d, Pic) || ReferenceEquals(d, IoApic) || ReferenceEquals(d, LocalApic);
        foreach (var device in _devices.Where(d => !IsController(d)).Concat(_devices.Where(IsController)))
        {
            device.RestoreState(byName[device.Name]);
        }

        Cpu.InterruptStateChanged();
    }
}

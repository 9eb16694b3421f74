namespace Emulator.Core.Devices;

/// <summary>
/// The contract every device of a machine follows (after QEMU's qdev: a name, a reset handler
/// and a VMState description; docs/architecture.md "Devices"). The machine builder creates the
/// devices, registers them in <c>PcMachine.Devices</c> (unique names, wiring order), connects
/// their interrupt lines and maps them; a machine reset walks that list, and a whole-machine
/// snapshot saves and restores each device's <see cref="DeviceState"/> by name.
/// </summary>
public interface IDevice
{
    /// <summary>Unique within the machine (QEMU's id, e.g. "pic-master", "pflash1", "com1").</summary>
    string Name { get; }

    /// <summary>
    /// What a machine reset does to this device (QEMU's reset handler under qemu_system_reset):
    /// registers back to power-on values; what QEMU keeps across a reset (CMOS RAM, flash
    /// contents) the device keeps, and says so in its documentation.
    /// </summary>
    void Reset();

    /// <summary>
    /// Everything the device holds — guest-visible registers and internal state alike — as a
    /// plain record that System.Text.Json serializes by its runtime type: no delegates, no
    /// references to other devices, timers as absolute virtual-time deadlines. Saving only
    /// reads: devices may be saved concurrently.
    /// </summary>
    DeviceState SaveState();

    /// <summary>
    /// Makes the device what <see cref="SaveState"/> recorded on a device of the same type and
    /// configuration: re-arms its scheduler deadlines, re-applies the mappings its registers
    /// imply and drives its interrupt lines to the recorded levels. It does not read the virtual
    /// clock (a snapshot restores the clock and the devices in no fixed order). A record of
    /// another type is refused with <see cref="ArgumentException"/>.
    /// </summary>
    void RestoreState(DeviceState state);
}

/// <summary>The base of every device's saved state: a plain, serializable record.</summary>
public abstract record DeviceState
{
    /// <summary>
    /// <paramref name="state"/> as the record type <paramref name="device"/> saves, or
    /// <see cref="ArgumentException"/> naming both (the refusal <see cref="IDevice.RestoreState"/> promises).
    /// </summary>
    public static T Expect<T>(DeviceState state, IDevice device)
        where T : DeviceState
    {
        ArgumentNullException.ThrowIfNull(state);
        return state as T
            ?? throw new ArgumentException($"{device.Name} restores a {typeof(T).Name}, not a {state.GetType().Name}", nameof(state));
    }
}

/// <summary>The state of a device that holds none (a sink such as the debug console); restoring it does nothing.</summary>
public sealed record NoDeviceState : DeviceState;

using Emulator.Core.Machine;
using Emulator.Firmware.Varstore;

namespace Emulator.Hosting.Reporting;

/// <summary>
/// The report's <c>secureBoot</c>: the firmware's runtime Secure Boot state at the end of the run,
/// read from the variable driver's volatile store in guest RAM (<see cref="RamVariableStoreScanner"/>)
/// — SecureBoot, SetupMode, AuditMode, DeployedMode and VendorKeys are volatile variables that
/// AuthVariableLib (SecurityPkg/Library/AuthVariableLib/AuthVariableLib.c AuthVariableLibInitialize)
/// sets when the driver starts — and whether the flash store holds PK, KEK, db and dbx. RAM is read
/// through its host memory, not the bus, so TSEG counts even though the normal view hides it.
/// </summary>
internal static unsafe class ReportSecureBoot
{
    /// <summary>Windows of this size are scanned, overlapping by the largest store so none is cut.</summary>
    private const int Window = 1 << 30;

    private const ulong PageSize = 4096;

    public static SecureBootInfo Of(PcMachine machine, VarstoreImage? flash)
    {
        var stores = ScanRam(machine);
        var (smramStart, smramEnd) = Tseg(machine);
        bool InSmram(ulong address) => address >= smramStart && address < smramEnd;
        var chosen = RamVariableStoreScanner.SelectVolatile(stores, InSmram);
        bool Enrolled(string name, Guid vendor) => flash?.LiveVariables.Any(r => r.Name == name && r.VendorGuid == vendor) ?? false;
        return new SecureBootInfo(
            chosen is not null,
            chosen is null ? null : Hex.Format(chosen.Address),
            chosen is not null && InSmram(chosen.Address),
            chosen?.GlobalByte("SecureBoot"),
            chosen?.GlobalByte("SetupMode"),
            chosen?.GlobalByte("AuditMode"),
            chosen?.GlobalByte("DeployedMode"),
            chosen?.GlobalByte("VendorKeys"),
            Enrolled("PK", VariableGuids.EfiGlobalVariable),
            Enrolled("KEK", VariableGuids.EfiGlobalVariable),
            Enrolled("db", VariableGuids.ImageSecurityDatabase),
            Enrolled("dbx", VariableGuids.ImageSecurityDatabase),
            stores.Select(s => new RamStoreInfo(Hex.Format(s.Address), InSmram(s.Address), KindName(s.Kind), s.Image.StoreSize, s.Image.LiveVariables.Count())).ToList());
    }

    /// <summary>The one stderr line: <c>Secure Boot: enabled (SecureBoot=1, SetupMode=0), PK/KEK/db/dbx enrolled</c>.</summary>
    public static string Summary(SecureBootInfo s)
    {
        if (!s.Found)
        {
            return "Secure Boot: not found (no volatile variable store in RAM: the variable driver has not started)";
        }

        string state = s.SecureBoot == 1 ? "enabled" : s.SecureBoot == 0 ? "disabled" : "unknown";
        string keys = string.Join(", ", new[] { ("PK", s.Pk), ("KEK", s.Kek), ("db", s.Db), ("dbx", s.Dbx) }.Where(k => k.Item2).Select(k => k.Item1));
        string missing = string.Join(", ", new[] { ("PK", s.Pk), ("KEK", s.Kek), ("db", s.Db), ("dbx", s.Dbx) }.Where(k => !k.Item2).Select(k => k.Item1));
        string enrolled = missing.Length == 0 ? "PK/KEK/db/dbx enrolled" : keys.Length == 0 ? "no PK/KEK/db/dbx enrolled" : $"{keys} enrolled, no {missing}";
        return $"Secure Boot: {state} (SecureBoot={Value(s.SecureBoot)}, SetupMode={Value(s.SetupMode)}), {enrolled}";
    }

    private static string Value(int? v) => v?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "absent";

    private static string KindName(RamVariableStoreKind kind) => kind switch
    {
        RamVariableStoreKind.Volatile => "volatile",
        RamVariableStoreKind.NonVolatile => "nonVolatile",
        _ => "empty",
    };

    /// <summary>TSEG, the top of low RAM the Q35 MCH gives to SMM (mch_update_smram); empty on i440FX or with TSEG off.</summary>
    private static (ulong Start, ulong End) Tseg(PcMachine machine)
    {
        if (machine.Options.Chipset != PcChipset.Q35 || !machine.Options.Smm || machine.Mch.TsegSize is 0 or > uint.MaxValue || machine.Mch.TsegSize > machine.LowRamSize)
        {
            return (0, 0);
        }

        return (machine.LowRamSize - machine.Mch.TsegSize, machine.LowRamSize);
    }

    /// <summary>
    /// Low RAM (0 up to <see cref="PcMachine.LowRamSize"/>) and high RAM (from 4 GiB), the pages
    /// the guest touched only, each run in overlapping windows; a store seen twice is kept once.
    /// </summary>
    private static List<RamVariableStore> ScanRam(PcMachine machine)
    {
        var byAddress = new SortedDictionary<ulong, RamVariableStore>();
        foreach (var (region, regionLength) in new[] { (0UL, machine.LowRamSize), (FlashLayout.FourGiB, machine.HighRamSize) })
        {
            if (regionLength == 0)
            {
                continue;
            }

            foreach (var (first, length) in TouchedRuns(machine.RamHost(region), regionLength))
            {
                for (ulong offset = 0; offset < length; offset += Window - RamVariableStoreScanner.MaxStoreSize)
                {
                    int size = (int)Math.Min(Window, length - offset);
                    ulong address = region + first + offset;
                    foreach (var store in RamVariableStoreScanner.Scan(new ReadOnlySpan<byte>(machine.RamHost(address), size), address))
                    {
                        byAddress.TryAdd(store.Address, store);
                    }

                    if (offset + (ulong)size >= length)
                    {
                        break;
                    }
                }
            }
        }

        return byAddress.Values.ToList();
    }

    /// <summary>
    /// The runs of pages the guest has touched (offset, length), by mincore on Linux, where guest
    /// RAM is an anonymous mapping: a page never touched is zero and holds no store, and reading it
    /// would cost a page fault that maps the kernel's zero page there (measured: 2.2 s instead of
    /// 0.3 s for 256 MiB on a busy host). Elsewhere, or when mincore fails, all of it.
    /// </summary>
    private static List<(ulong Offset, ulong Length)> TouchedRuns(byte* ram, ulong size)
    {
        ulong pages = size / PageSize;
        byte[] resident = new byte[pages];
        fixed (byte* vec = resident)
        {
            if (!OperatingSystem.IsLinux() || mincore((IntPtr)ram, (nuint)size, vec) != 0)
            {
                return [(0, size)];
            }
        }

        var runs = new List<(ulong, ulong)>();
        for (ulong page = 0; page < pages;)
        {
            ulong end = page;
            while (end < pages && (resident[end] & 1) != 0)
            {
                end++;
            }

            if (end > page)
            {
                runs.Add((page * PageSize, (end - page) * PageSize));
            }

            page = end + 1;
        }

        return runs;
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int mincore(IntPtr addr, nuint length, byte* vec);
}

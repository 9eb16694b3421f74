// PCI Express enhanced configuration access (ECAM, "MMCONFIG") as QEMU's PCIe host bridge
// serves it (hw/pci/pcie_host.c pcie_mmcfg_data_read/write, pcie_dev_find_by_mmcfg_addr):
// a memory window where address bits 27:20 select the bus, 19:12 the device and function
// (devfn) and 11:0 the register. The Q35 MCH's PCIEXBAR places and sizes it; the machine maps
// this device there.
// Emulated: bus 0 (the only bus of this board): the function at devfn answers registers below
// its configuration space size (256 bytes: every function here is conventional PCI) with 1-,
// 2- or 4-byte accesses; other buses, absent functions and registers from 0x100 read all-ones
// and drop writes (QEMU: "256 <= addr < 4K has no effects"); an access that starts inside the
// space and runs past its end reads only the bytes inside (pci_host_config_read_common). QEMU's
// ops declare no sizes, so an 8-byte access arrives as two dwords.
// Not emulated: buses behind bridges, extended configuration space.
// Firmware relies on: OVMF's DXE phase on Q35 reads and writes every configuration register
// through ECAM at 0xB0000000 (DxePciLibI440FxQ35), not through 0xCF8/0xCFC.
using Emulator.Core.Devices.Pci;
using Emulator.Core.Memory;

namespace Emulator.Core.Devices.Q35;

/// <summary>The ECAM window onto bus 0 of a <see cref="PciHost"/>.</summary>
public sealed class PcieEcam(PciHost host) : IMmioDevice
{
    private const int BusShift = 20;
    private const int DevFnShift = 12;
    private const ulong RegisterMask = 0xFFF;

    public string Name => "pcie-mmcfg";

    /// <summary>QEMU's pcie_mmcfg_ops declare nothing: any size accepted, handlers of 1–4 bytes.</summary>
    public AccessSizes Sizes => AccessSizes.QemuDefault;

    public ulong Read(ulong offset, int size)
    {
        var (function, register) = Decode(offset);
        if (function == null || register >= PciFunction.ConfigSpaceSize)
        {
            return size >= 8 ? ulong.MaxValue : (1UL << (8 * size)) - 1;
        }

        return function.ReadConfig(register, size);
    }

    public void Write(ulong offset, int size, ulong value)
    {
        var (function, register) = Decode(offset);
        if (function != null && register < PciFunction.ConfigSpaceSize)
        {
            function.WriteConfig(register, size, (uint)value);
        }
    }

    private (PciFunction? Function, int Register) Decode(ulong offset)
    {
        if ((offset >> BusShift) != 0)
        {
            return (null, 0);
        }

        int devfn = (int)((offset >> DevFnShift) & 0xFF);
        return (host.FunctionAt(devfn / PciHost.MaxFunctions, devfn % PciHost.MaxFunctions), (int)(offset & RegisterMask));
    }
}

using System.Reflection;

namespace Emulator.Core.Cpu.Jit;

/// <summary>
/// The reverse of the handler table: from a handler's function pointer to its method, so the
/// block compiler can emit a direct call (which the .NET JIT inlines) instead of an indirect one.
/// Generic handlers (one body per operand size and operation) are instantiated over every value
/// type that satisfies their constraints; a pointer not found here is called indirectly.
/// </summary>
internal static class HandlerMethods
{
    private const int MaxInstantiations = 512;

    private static readonly Lazy<Dictionary<nint, MethodInfo>> Map = new(Build);

    private static readonly Lazy<Dictionary<string, List<(MethodInfo Method, JitTwinAttribute Attribute)>>> Twins = new(BuildTwins);

    public static MethodInfo? Find(nint handler) => Map.Value.GetValueOrDefault(handler);

    /// <summary>The twin that stands in for <paramref name="handler"/>, or null.</summary>
    public static (MethodInfo Method, JitTwinAttribute Attribute)? FindTwin(nint handler)
    {
        if (Find(handler) is not { } method || !Twins.Value.TryGetValue(method.Name, out var twins))
        {
            return null;
        }

        var (twin, attribute) = twins[0];
        var concrete = twin.IsGenericMethodDefinition ? twin.MakeGenericMethod(method.GetGenericArguments()) : twin;
        return (concrete, attribute);
    }

    /// <summary>Every twin and the attribute naming its handler (a twin of several handlers, as Jcc's, once per handler).</summary>
    internal static IEnumerable<(MethodInfo Method, JitTwinAttribute Attribute)> AllTwins() => Twins.Value.Values.SelectMany(list => list);

    private static Dictionary<string, List<(MethodInfo, JitTwinAttribute)>> BuildTwins()
    {
        var twins = new Dictionary<string, List<(MethodInfo, JitTwinAttribute)>>();
        const BindingFlags all = BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        foreach (var method in typeof(Handlers).GetMethods(all))
        {
            foreach (var attribute in method.GetCustomAttributes<JitTwinAttribute>())
            {
                if (!twins.TryGetValue(attribute.Handler, out var list))
                {
                    twins[attribute.Handler] = list = [];
                }

                list.Add((method, attribute));
            }
        }

        return twins;
    }

    private static Dictionary<nint, MethodInfo> Build()
    {
        var map = new Dictionary<nint, MethodInfo>();
        var valueTypes = typeof(Handlers).Assembly.GetTypes().Where(t => t.IsValueType && !t.IsGenericTypeDefinition).ToArray();
        const BindingFlags all = BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        foreach (var method in typeof(Handlers).GetMethods(all))
        {
            if (!IsHandlerShape(method))
            {
                continue;
            }

            if (!method.IsGenericMethodDefinition)
            {
                Add(map, method);
                continue;
            }

            var parameters = method.GetGenericArguments();
            var candidates = parameters.Select(p => valueTypes.Where(t => Satisfies(t, p)).ToArray()).ToArray();
            long product = candidates.Aggregate(1L, (n, c) => n * c.Length);
            if (product == 0 || product > MaxInstantiations)
            {
                continue;
            }

            foreach (var args in Combinations(candidates))
            {
                try
                {
                    Add(map, method.MakeGenericMethod(args));
                }
                catch (ArgumentException)
                {
                    // A constraint the filter did not model: not a real instantiation.
                }
            }
        }

        return map;
    }

    private static void Add(Dictionary<nint, MethodInfo> map, MethodInfo method) =>
        map.TryAdd(method.MethodHandle.GetFunctionPointer(), method);

    private static bool IsHandlerShape(MethodInfo m)
    {
        var p = m.GetParameters();
        return m.ReturnType == typeof(void) && p.Length == 2 && p[0].ParameterType == typeof(Cpu) &&
            p[1].ParameterType == typeof(DecodedOp).MakeByRefType();
    }

    private static bool Satisfies(Type candidate, Type parameter) =>
        parameter.GetGenericParameterConstraints().All(c => c == typeof(ValueType) || c.IsAssignableFrom(candidate));

    private static IEnumerable<Type[]> Combinations(Type[][] candidates)
    {
        var index = new int[candidates.Length];
        while (true)
        {
            yield return index.Select((k, i) => candidates[i][k]).ToArray();
            int d = candidates.Length - 1;
            while (d >= 0 && ++index[d] == candidates[d].Length)
            {
                index[d] = 0;
                d--;
            }

            if (d < 0)
            {
                yield break;
            }
        }
    }
}

using System.Reflection;

namespace Emulator.Tests.Shared;

/// <summary>
/// Every test class carries exactly one <c>[Trait("Category", ...)]</c> from the set
/// docs/testing.md describes, so <c>dotnet test --filter Category=Unit</c> (and the others) pick
/// whole, known sets. This file is compiled into every test project and checks its own assembly.
/// </summary>
[Trait("Category", "Unit")]
public sealed class TestCategoryTests
{
    /// <summary>The categories, as docs/testing.md lists them.</summary>
    public static readonly string[] Categories = ["Unit", "Slow", "Fixture", "Boot", "Debug", "Qemu", "Fuzz"];

    [Fact]
    public void EveryTestClassHasExactlyOneDocumentedCategory()
    {
        var wrong = TestClasses(typeof(TestCategoryTests).Assembly)
            .Select(type => (type, categories: CategoriesOf(type)))
            .Where(c => c.categories.Count != 1 || !Categories.Contains(c.categories[0]))
            .Select(c => $"{c.type.FullName}: [{string.Join(", ", c.categories)}]")
            .ToList();

        Assert.True(wrong.Count == 0, "test classes without exactly one Category trait from {" + string.Join(", ", Categories) + "}:\n" + string.Join("\n", wrong));
    }

    [Fact]
    public void TheCategoriesAreTheOnesDocsTestingMdDescribes()
    {
        string docs = File.ReadAllText(RepositoryFile("docs/testing.md"));
        Assert.All(Categories, c => Assert.Contains($"`Category={c}`", docs));
    }

    /// <summary>Concrete classes with a test method of their own or inherited (xunit runs those).</summary>
    internal static IEnumerable<Type> TestClasses(Assembly assembly) =>
        assembly.GetTypes().Where(t => t.IsClass && !t.IsAbstract && t
            .GetMethods(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
            .Any(m => m.GetCustomAttributes<FactAttribute>(inherit: true).Any()));

    /// <summary>The Category traits declared on the class itself (the way xunit 2 reads class traits).</summary>
    internal static List<string> CategoriesOf(Type type) =>
        [.. type.GetCustomAttributesData()
            .Where(a => a.AttributeType == typeof(TraitAttribute) && (string?)a.ConstructorArguments[0].Value == "Category")
            .Select(a => (string)a.ConstructorArguments[1].Value!)];

    private static string RepositoryFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string path = Path.Combine(dir.FullName, relative);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new FileNotFoundException($"{relative} not found above {AppContext.BaseDirectory}");
    }
}

using Castra.Errors;

namespace Castra.State;

/// <summary>How a refused or failing state file surfaces from an operation that cannot go on without it.</summary>
internal static class StateFileError
{
    public static CastraException For(VmPaths vm, IOException ex) => ex is UnsafeStateFileException
        ? new CastraException(ErrorIds.UnsafeStateFile, CastraErrorCategory.PermissionDenied, ex.Message, ex) { Target = vm.Name }
        : new CastraException(ErrorIds.Unexpected, CastraErrorCategory.WriteError, ex.Message, ex) { Target = vm.Name };
}

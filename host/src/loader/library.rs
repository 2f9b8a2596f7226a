//! Opening a checked plugin library in this process, and closing it for real.

use std::path::{Path, PathBuf};

use abi_stable::StableAbi;
use abi_stable::abi_stability::abi_checking::{
    CheckingGlobals, check_layout_compatibility_with_globals,
};
use zoryx_plugin_api::ffi::types::Description;
use zoryx_plugin_api::ffi::{
    DECLARATION_SYMBOL, DECLARATION_VERSION, MAGIC, PluginDeclaration, PluginModuleRef,
};
use zoryx_plugin_api::{API_VERSION, ApiVersion};

use super::LoadError;
use super::layout::summarise;
use super::maps::{Mapping, mapping_of};

/// A plugin library opened with `dlopen`, whose declaration, version and layout were checked.
///
/// Dropping it calls `dlclose`. The owner must make sure no instance, call or future of the
/// plugin outlives it (see `plugins::generation`).
pub struct LoadedLibrary {
    path: PathBuf,
    api_version: ApiVersion,
    module: PluginModuleRef,
    library: Option<libloading::Library>,
}

impl std::fmt::Debug for LoadedLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedLibrary")
            .field("path", &self.path)
            .field("api_version", &self.api_version)
            .finish_non_exhaustive()
    }
}

impl LoadedLibrary {
    /// Opens `path` and checks that it is a compatible Zoryx plugin.
    ///
    /// `path` must be a private copy that already passed the library file check and a trial load in
    /// a child process: `dlopen` of a damaged file can kill the process.
    pub fn open(path: &Path) -> Result<Self, LoadError> {
        // SAFETY: loading runs the library's initialisers. The caller has checked the file in a
        // child process first, which is the guard against libraries that crash on load.
        let library = unsafe { libloading::Library::new(path) }
            .map_err(|e| LoadError::Open(e.to_string()))?;
        // SAFETY: we only take the address of the symbol here; its contents are validated below
        // before anything else is read.
        let declaration: *const PluginDeclaration =
            match unsafe { library.get::<*const PluginDeclaration>(DECLARATION_SYMBOL) } {
                Ok(symbol) => *symbol,
                Err(_) => return Err(LoadError::NotAPlugin),
            };
        // SAFETY: the symbol is `ZORYX_PLUGIN_DECLARATION`, which every plugin-api version
        // exports as a `#[repr(C)] PluginDeclaration` whose first three fields (magic,
        // declaration version, API version) never change shape. We read those first.
        let (magic, declaration_version, api_version) = unsafe {
            (
                (*declaration).magic,
                (*declaration).declaration_version,
                (*declaration).api_version,
            )
        };
        if magic != MAGIC || declaration_version != DECLARATION_VERSION {
            return Err(LoadError::NotAPlugin);
        }
        if !API_VERSION.accepts(api_version) {
            return Err(LoadError::Version {
                plugin: api_version,
                host: API_VERSION,
            });
        }
        // SAFETY: magic and versions matched, so the rest of the declaration has the shape this
        // host knows: a `'static` layout reference and a function-table pointer.
        let (layout, module) = unsafe { ((*declaration).layout, (*declaration).module) };
        // The plugin is never newer than the host here, so its layout is the "interface" and
        // ours the "implementation": prefix types may have gained fields on our side. A fresh
        // `CheckingGlobals` per load keeps abi_stable's process-wide cache free of pointers into
        // libraries that will be unloaded.
        let globals = CheckingGlobals::new();
        check_layout_compatibility_with_globals(
            layout,
            <PluginModuleRef as StableAbi>::LAYOUT,
            &globals,
        )
        .map_err(|errors| LoadError::Layout(summarise(&errors)))?;
        Ok(Self {
            path: path.to_owned(),
            api_version,
            module,
            library: Some(library),
        })
    }

    /// The plugin-api version the plugin was built against.
    pub fn api_version(&self) -> ApiVersion {
        self.api_version
    }

    /// The private copy this library was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The plugin's function table.
    pub fn module(&self) -> PluginModuleRef {
        self.module
    }

    /// Reads the plugin's manifest and registrations.
    pub fn describe(&self) -> Result<Description, LoadError> {
        zoryx_plugin_api::ffi::extra::describe(self.module).map_err(LoadError::Describe)
    }

    /// Closes the library now and reports what is still mapped of it afterwards.
    pub fn close(mut self) -> Result<Mapping, LoadError> {
        self.close_inner()
    }

    fn close_inner(&mut self) -> Result<Mapping, LoadError> {
        if let Some(library) = self.library.take() {
            library
                .close()
                .map_err(|e| LoadError::Close(e.to_string()))?;
        }
        Ok(mapping_of(&self.path))
    }
}

impl Drop for LoadedLibrary {
    fn drop(&mut self) {
        if let Err(error) = self.close_inner() {
            tracing::warn!(file = %self.path.display(), %error, "closing plugin library failed");
        }
    }
}

// File access from held directories ("at" as in openat(2)): the file tools reach every file through
// descriptors of the folders above it, never through a path string checked first and used later.
// chain.ts holds the descriptors, walk.ts resolves a path over them (symlinks followed by hand),
// tree.ts lists and deletes whole trees, places.ts knows the data folder and the protected places.
export {
  Chain,
  changed,
  FINAL_FLAGS,
  identityOf,
  procFdWorks,
  type Blocked,
  type HeldDir,
  type Identity,
} from './chain';
export {
  isDataFolder,
  missingPlaceAt,
  protectedPlace,
  protectedPlaceOf,
  type DataPlace,
  type ProtectedPlace,
} from './places';
export { emptyTree, kindOf, listTree, removeEntry, surveyTree, type ListEntry, type TreeGuard } from './tree';
export { ConfinedFs, type ConfinedFsOptions, type Located, type Want } from './walk';

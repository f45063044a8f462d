import BDSimCLI
import SimModel
import SimModels
import TokenBucket

// The whole bdsim command line (run, validate, models, compare, plot, ...) with one more model.
BDSimCLI.main(models: ShippedModels.all + [AnyModel(TokenBucketModel.self)])

import SimBroker
import SimCDN
import SimETL
import SimHDFS
import SimLambdaKappa
import SimMapReduce
import SimModel
import SimPHOLD
import SimQueueing
import SimQuorum
import SimService
import SimShards
import SimSpark
import SimStream
import SimTransfer

/// The models BDSim ships, in the order `bdsim models` lists them. A package of its own runs
/// the command line with these and its own: `BDSimCLI.main(models: ShippedModels.all + [...])`.
public enum ShippedModels {
  public static let all: [AnyModel] = [
    AnyModel(QueueingModel.self),
    AnyModel(PHOLDModel.self),
    AnyModel(TransferModel.self),
    AnyModel(BrokerModel.self),
    AnyModel(QuorumModel.self),
    AnyModel(HDFSModel.self),
    AnyModel(MapReduceModel.self),
    AnyModel(SparkModel.self),
    AnyModel(StreamModel.self),
    AnyModel(LambdaKappaModel.self),
    AnyModel(ShardsModel.self),
    AnyModel(CDNModel.self),
    AnyModel(ServiceModel.self),
    AnyModel(ETLModel.self),
  ]
}
